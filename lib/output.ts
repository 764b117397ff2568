import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT, UserError, describeError } from './errors.ts';

/**
 * Write `files` (paths relative to `dir`, folders made as needed) into an output
 * directory the user named, and return their full paths. Whatever stops it (a path
 * that is a file, no permission, a full disk) is one line naming the directory and
 * the reason; exit 3, as for a read that failed (README, exit codes).
 */
export function writeFiles(dir: string, files: Record<string, string>): string[] {
  try {
    mkdirSync(dir, { recursive: true });
    return Object.entries(files).map(([path, text]) => {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, text);
      return full;
    });
  } catch (err) {
    throw new UserError(`cannot write to ${dir}: ${describeError(err)}`, EXIT.unjudged);
  }
}
