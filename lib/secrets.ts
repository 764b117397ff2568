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
