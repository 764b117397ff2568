import { readFile, readdir } from 'node:fs/promises';

// Reading sysfs attribute files: one value and a newline each. Anything else — an empty
// file, text where a number belongs — is garbage and an error, never a silent zero.

/** A sysfs integer attribute (millidegrees, kHz). */
export async function readInteger(path: string): Promise<number> {
  const text = await readFile(path, 'utf8');
  const value = text.trim();
  if (!/^-?\d+$/.test(value)) throw new Error(`${path}: expected an integer, read ${JSON.stringify(text.slice(0, 40))}`);
  return Number(value);
}

/** A sysfs text attribute (a zone's type); empty is an error. */
export async function readWord(path: string): Promise<string> {
  const value = (await readFile(path, 'utf8')).trim();
  if (value === '') throw new Error(`${path}: empty`);
  return value;
}

/** Entries of `dir` named `<prefix><number>` (thermal_zone3, cpu12), in numeric order; none is an error. */
export async function numberedEntries(dir: string, prefix: string): Promise<{ name: string; index: number }[]> {
  const pattern = new RegExp(`^${prefix}(\\d+)$`);
  const names = await readdir(dir);
  const entries = names
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ name: e.name, index: Number(e.match![1]) }))
    .sort((a, b) => a.index - b.index);
  if (entries.length === 0) throw new Error(`${dir}: no ${prefix}N entries`);
  return entries;
}
