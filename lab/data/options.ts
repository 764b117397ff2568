import { existsSync, writeFileSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_HEROES } from '../../lib/defaults.ts';

// The hero options file of myhero-data (`myhero_options.txt`, one option per
// line), created from the shipped sample when missing. Changes are serialized
// so concurrent PUT/POST/DELETE requests cannot interleave their writes.

export const OPTIONS_FILE = 'myhero_options.txt';
/** What the original answers (inside `{"options": ...}`) when PUT adds an option already listed. */
export const ALREADY_LISTED = 'Option already in list.';

export class OptionsFile {
  readonly path: string;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.path = join(dataDir, OPTIONS_FILE);
    if (!existsSync(this.path)) writeFileSync(this.path, `${DEFAULT_HEROES.join('\n')}\n`);
  }

  async list(): Promise<string[]> {
    const text = await readFile(this.path, 'utf8');
    return text
      .split('\n')
      .map((l) => l.trimEnd())
      .filter(Boolean);
  }

  /** Adds an option unless it is listed already (case-insensitively); returns the new list or ALREADY_LISTED. */
  add(option: string): Promise<string[] | typeof ALREADY_LISTED> {
    return this.serialized(async () => {
      const options = await this.list();
      if (options.some((o) => o.toUpperCase() === option.toUpperCase())) return ALREADY_LISTED;
      await appendFile(this.path, `${option}\n`);
      return this.list();
    });
  }

  /** Removes an option (case-insensitively); an unknown option leaves the list as it is. */
  remove(option: string): Promise<string[]> {
    return this.serialized(async () => {
      const options = await this.list();
      const kept = options.filter((o) => o.toUpperCase() !== option.toUpperCase());
      if (kept.length !== options.length) await writeFile(this.path, kept.length ? `${kept.join('\n')}\n` : '');
      return this.list();
    });
  }

  replace(options: string[]): Promise<string[]> {
    return this.serialized(async () => {
      await writeFile(this.path, options.length ? `${options.join('\n')}\n` : '');
      return this.list();
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
