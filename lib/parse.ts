import { UserError } from './errors.ts';

// Parsers for command-line, env and config-file values. Each turns a raw string
// into a typed value or throws a UserError naming the setting and what it expects.

export type Parser<T> = (raw: string, name: string) => T;

const fail = (name: string, raw: string, expected: string): never => {
  throw new UserError(`invalid ${name} "${raw}": expected ${expected}`, 2);
};

export const string: Parser<string> = (raw) => raw;

export function int(min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Parser<number> {
  return (raw, name) => {
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || n < min || n > max) fail(name, raw, `a whole number from ${min} to ${max}`);
    return n;
  };
}

export function number(min = -Infinity, max = Infinity): Parser<number> {
  return (raw, name) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) fail(name, raw, `a number from ${min} to ${max}`);
    return n;
  };
}

export const bool: Parser<boolean> = (raw, name) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return fail(name, raw, 'true or false');
};

export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  return (raw, name) => (values.includes(raw as T) ? (raw as T) : fail(name, raw, `one of ${values.join('|')}`));
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations like `500ms`, `30s`, `2m`, `1h`, `1m30s`; a bare number means seconds. Returns milliseconds. */
export const duration: Parser<number> = (raw, name) => {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  // match() rather than matchAll() (ES2020): the k6 bundle inlines this parser and keeps to ES2017 built-ins.
  const parts = s.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) ?? [];
  if (parts.length === 0 || parts.join('') !== s) return fail(name, raw, 'a duration such as 500ms, 30s, 2m');
  return parts.reduce((ms, p) => {
    const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(p)!;
    return ms + Number(n) * UNITS_MS[unit!]!;
  }, 0);
};

/**
 * A URL. Credentials in it (`user:password@`) are refused: a URL is echoed into logs,
 * errors and reports, so secrets go in their own flags, files or env vars instead.
 */
export const url: Parser<string> = (raw, name) => {
  let u: URL;
  try {
    u = new URL(raw);
    if (!['http:', 'https:', 'mqtt:', 'mqtts:', 'tcp:', 'ws:', 'wss:'].includes(u.protocol)) throw new Error();
  } catch {
    return fail(name, raw, 'a URL such as http://127.0.0.1:15001');
  }
  if (u.username || u.password) {
    return fail(name, `${u.protocol}//[redacted]@${u.host}${u.pathname}`, 'a URL without user:password@ (it would be echoed into logs and reports; pass credentials through the key, token or credentials-file option instead)');
  }
  return raw.replace(/\/+$/, '');
};

/** `host:port` or `:port`; an empty host means all interfaces. */
export const hostPort: Parser<{ host: string; port: number }> = (raw, name) => {
  const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return fail(name, raw, 'host:port such as 0.0.0.0:9243');
  return { host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
};

export function list<T>(item: Parser<T>): Parser<T[]> {
  return (raw, name) =>
    raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => item(s, name));
}
