// The load profile over time: a level (voters or votes/s) that is constant, or
// ramps linearly stage by stage like k6's ramping executors. Pure functions.

export interface Stage {
  durationMs: number;
  /** Level reached at the end of the stage (voters, or votes per second). */
  target: number;
}

interface Segment {
  startMs: number;
  endMs: number;
  from: number;
  to: number;
}

export interface Profile {
  segments: Segment[];
  endMs: number;
  /** Highest level anywhere in the profile: how many voters or connections to allocate. */
  peak: number;
}

/** A constant level for `durationMs`, or the stages (starting from 0) when given. */
export function profileOf(level: number, durationMs: number, stages?: readonly Stage[]): Profile {
  if (!stages?.length) {
    return { segments: [{ startMs: 0, endMs: durationMs, from: level, to: level }], endMs: durationMs, peak: level };
  }
  const segments: Segment[] = [];
  let t = 0;
  let from = 0;
  for (const s of stages) {
    segments.push({ startMs: t, endMs: t + s.durationMs, from, to: s.target });
    t += s.durationMs;
    from = s.target;
  }
  return { segments, endMs: t, peak: Math.max(...stages.map((s) => s.target)) };
}

/** The level at `tMs` after the start; 0 outside the profile. */
export function levelAt(p: Profile, tMs: number): number {
  for (const s of p.segments) {
    if (tMs >= s.startMs && tMs < s.endMs) {
      const span = s.endMs - s.startMs;
      return span === 0 ? s.to : s.from + ((s.to - s.from) * (tMs - s.startMs)) / span;
    }
  }
  return 0;
}

/**
 * The intended time (ms after the start) of the n-th arrival (n = 0, 1, ...) when the
 * level is an arrival rate in per second: the time at which the integral of the rate
 * reaches n. Infinity when the profile ends first. This is the open model's fixed
 * schedule, which latency is measured from.
 */
export function arrivalMs(p: Profile, n: number): number {
  let before = 0;
  for (const s of p.segments) {
    const d = (s.endMs - s.startMs) / 1000;
    const inSegment = ((s.from + s.to) / 2) * d;
    if (n < before + inSegment) {
      const k = n - before;
      const slope = d === 0 ? 0 : (s.to - s.from) / d;
      // Solve from·x + slope·x²/2 = k for x in seconds.
      const x = Math.abs(slope) < 1e-12 ? k / s.from : (-s.from + Math.sqrt(s.from * s.from + 2 * slope * k)) / slope;
      return s.startMs + x * 1000;
    }
    before += inSegment;
  }
  return Infinity;
}

/**
 * Fixed levels held one after another (e.g. arrival rates for a capacity search, with a
 * level-0 settle between them), as stages: each step jumps to its level (a zero-length
 * stage) and holds it. Arrivals of an open model then follow each step's rate exactly.
 */
export function stepStages(steps: readonly { durationMs: number; level: number }[]): Stage[] {
  return steps.flatMap((s) => [
    { durationMs: 0, target: s.level },
    { durationMs: s.durationMs, target: s.level },
  ]);
}
