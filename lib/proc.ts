import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UserError } from './errors.ts';

/** Absolute path of the first of `names` found on PATH (or as given), else a UserError saying how to install it. */
export function findBinary(names: readonly string[], install: string): string {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const name of names) {
    const candidates = name.includes('/') ? [name] : dirs.map((d) => join(d, name));
    for (const c of candidates) {
      try {
        accessSync(c, constants.X_OK);
        return c;
      } catch {
        /* keep looking */
      }
    }
  }
  throw new UserError(`${names[0]} not found: ${install}`);
}

/**
 * Send `signal` to the process group `child` leads (spawn it with `detached: true`),
 * so whatever it started goes too. Nothing happens when the group is gone already or
 * the child never started; a group we may not signal (a setuid `sudo` left alone in
 * it) is skipped too, since the callers run this from timers with nobody to tell.
 */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* ESRCH: gone already; EPERM: not ours to signal */
  }
}

export interface Service {
  child: ChildProcess;
  /** The last lines the process printed, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Start a long-running process, keeping the tail of its output for diagnostics. */
export function startService(cmd: string, args: string[], opts: SpawnOptions = {}): Service {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > 50) lines.splice(0, lines.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      lines.push(String(err));
      resolve(-1);
    });
  });
  return {
    child,
    exited,
    output: () => lines.join('\n'),
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
