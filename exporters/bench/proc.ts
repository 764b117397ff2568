import { readFileSync } from 'node:fs';

// What the kernel says a process uses: resident memory from /proc/<pid>/status and CPU
// time from /proc/<pid>/stat (all threads, children not included).

export interface Rss {
  /** VmRSS: everything resident, KiB. */
  total: number;
  /** RssAnon: the process's own heap and stacks, KiB. */
  anon: number;
  /** RssFile: mapped files (mostly the runtime's own binary), shared and reclaimable, KiB. */
  file: number;
}

export function readRss(pid: number): Rss {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { total: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
}

/** User + system CPU time in clock ticks (USER_HZ, 100 on Linux). */
export function readCpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export const TICKS_PER_SECOND = 100;
