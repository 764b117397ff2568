// Number formatting that matches Prometheus's template functions, so the
// thresholds written into descriptions and the values the unit-test cases
// expect read exactly as Alertmanager will show them.

/** Go's `%.4g` for plain magnitudes (no exponent forms). */
export function g4(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/** Prometheus's `humanizePercentage`: 0.05 → `5%`. */
export function humanizePercentage(ratio: number): string {
  return `${g4(ratio * 100)}%`;
}

/** Prometheus's `humanizeDuration` for values under a minute: 1.99 → `1.99s`, 0.995 → `995ms`. */
export function humanizeDuration(seconds: number): string {
  if (seconds >= 60) throw new Error(`humanizeDuration: ${seconds} s is outside what the cases use`);
  return seconds >= 1 ? `${g4(seconds)}s` : `${g4(seconds * 1000)}ms`;
}
