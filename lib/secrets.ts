import { readFileSync } from 'node:fs';
import { UserError, describeError } from './errors.ts';

/**
 * A secret from, in order: an explicit value, a file (first line, trimmed), or
 * the first env var that is set. Returns undefined when none is given.
 */
export function readSecret(opts: { value?: string; file?: string; env?: readonly string[]; what: string }): string | undefined {
  if (opts.value) return opts.value;
  if (opts.file) {
    try {
      return readFileSync(opts.file, 'utf8').split(/\r?\n/)[0]!.trim();
    } catch (err) {
      throw new UserError(`cannot read ${opts.what} from ${opts.file}: ${describeError(err)}`, 2);
    }
  }
  for (const name of opts.env ?? []) {
    const v = process.env[name];
    if (v) return v;
  }
  return undefined;
}

/** Replace every occurrence of the given secrets in a text (for reports and error messages). */
export function scrub(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join('[redacted]');
  return out;
}

const SECRET_NAME = '[A-Za-z0-9_-]*(?:token|secret|passw(?:or)?d|api[-_]?key|apikey|auth)[A-Za-z0-9_-]*';
const REDACTIONS: [RegExp, string][] = [
  // Credentials in URLs: scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi, '$1[redacted]@'],
  // Authorization headers and bearer tokens.
  [/\b(Bearer|Basic)\s+[^\s'"]+/g, '$1 [redacted]'],
  // API-key headers: X-Api-Key: X, X-Auth-Token: X
  [/\b([A-Za-z-]*(?:Token|Key|Secret)[A-Za-z-]*:\s*)[^\s'"]+/gi, '$1[redacted]'],
  // curl -u user:password
  [/(\s-u\s+['"]?[^\s:'"]+:)[^\s'"]+/g, '$1[redacted]'],
  // --token X, --password=X, --api-key 'X'
  [new RegExp(`(--${SECRET_NAME})(=|\\s+)('[^']*'|"[^"]*"|[^\\s'"]+)`, 'gi'), '$1$2[redacted]'],
  // HA_TOKEN=X, API_KEY="X" (shell assignments and env files)
  [new RegExp(`\\b(${SECRET_NAME})=('[^']*'|"[^"]*"|[^\\s'"]+)`, 'gi'), '$1=[redacted]'],
  // Anything that looks like a generated token: long, mixed case and digits (JWTs, API keys).
  [/(?<![\w/.-])(?=[A-Za-z0-9_+/=.-]*[a-z])(?=[A-Za-z0-9_+/=.-]*[A-Z])(?=[A-Za-z0-9_+/=.-]*\d)[A-Za-z0-9_+/=.-]{24,}/g, '[redacted]'],
];

/**
 * A shell command as it may be journaled or printed: values that look like
 * secrets (URL credentials, bearer/basic credentials, `--token X`, `*_TOKEN=X`,
 * long mixed-case tokens) replaced by [redacted]. Hook commands go into reports;
 * the hooks themselves still run with the original text.
 */
export function redactCommand(command: string): string {
  return REDACTIONS.reduce((s, [re, to]) => s.replace(re, to), command);
}

/** Whether `--key` was given on the command line, where every user of the machine can read it (ps, /proc). */
export function keyOnCommandLine(argv: readonly string[]): boolean {
  return argv.some((a) => a === '--key' || a.startsWith('--key='));
}

export const KEY_ON_COMMAND_LINE = '--key puts the myhero-app key in the process list (ps, /proc); prefer --key-file or MYHERO_APP_KEY';
