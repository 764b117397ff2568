import { closeSync, openSync, readSync, readdirSync } from 'node:fs';

// Reading sysfs attribute files: one value and a newline each. Anything else — an empty
// file, text where a number belongs — is garbage and an error, never a silent zero.
// Reads are synchronous on purpose: sysfs attributes are answered from kernel memory in
// microseconds, and going through libuv's thread pool (open, fstat, read, close, each a
// round trip) cost several times the CPU of the read itself and woke four extra threads.
// sysfs reports every attribute as 4096 bytes long, so readFileSync would allocate 4 KiB
// per file per scrape; one small shared buffer does instead (reads never interleave).

const buffer = Buffer.alloc(256);

/** The text of a small attribute file; longer than the buffer is garbage too. */
function readAttribute(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    if (n === buffer.length) throw new Error(`${path}: longer than ${buffer.length - 1} bytes`);
    return buffer.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

/** A sysfs integer attribute (millidegrees, kHz). */
export function readInteger(path: string): number {
  const text = readAttribute(path);
  const value = text.trim();
  if (!/^-?\d+$/.test(value)) throw new Error(`${path}: expected an integer, read ${JSON.stringify(text.slice(0, 40))}`);
  return Number(value);
}

/** A sysfs text attribute (a zone's type); empty is an error. */
export function readWord(path: string): string {
  const value = readAttribute(path).trim();
  if (value === '') throw new Error(`${path}: empty`);
  return value;
}

/** Entries of `dir` named `<prefix><number>` (thermal_zone3, cpu12), in numeric order; none is an error. */
export function numberedEntries(dir: string, prefix: string): { name: string; index: number }[] {
  const pattern = new RegExp(`^${prefix}(\\d+)$`);
  const entries = readdirSync(dir)
    .map((name) => ({ name, match: pattern.exec(name) }))
    .filter((e) => e.match)
    .map((e) => ({ name: e.name, index: Number(e.match![1]) }))
    .sort((a, b) => a.index - b.index);
  if (entries.length === 0) throw new Error(`${dir}: no ${prefix}N entries`);
  return entries;
}
