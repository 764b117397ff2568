import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { signalGroup } from '../lib/proc.ts';
import { memoize } from './memo.ts';

// Runs the Raspberry Pi firmware tool. It can be missing (not a Pi, not in the image),
// fail (no access to /dev/vchiq) or hang (firmware mailbox stuck), so every run has a
// timeout, and answers are cached and shared: a Pi gets at most one vcgencmd per command
// per cache period, however many Prometheus servers scrape it.

/** Where Raspberry Pi OS (64-bit and recent 32-bit) and older Raspbian put it, in lookup order. */
export const VCGENCMD_PATHS = ['/usr/bin/vcgencmd', '/opt/vc/bin/vcgencmd'] as const;

/** The first executable of `candidates`, or undefined when there is none (not a Pi). */
export function locateVcgencmd(candidates: readonly string[] = VCGENCMD_PATHS): string | undefined {
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface VcgencmdOptions {
  /** undefined: vcgencmd is absent, and every run fails saying so. */
  path: string | undefined;
  timeoutMs: number;
  cacheMs: number;
}

export type Vcgencmd = (args: readonly string[]) => Promise<string>;

/** More than any vcgencmd answer; a runaway output is cut off rather than buffered. */
const MAX_OUTPUT = 64 * 1024;

function runOnce(path: string, args: readonly string[], timeoutMs: number): Promise<string> {
  const what = `vcgencmd ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout also kills anything the command started.
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(stdout);
    };
    const timer = setTimeout(() => {
      signalGroup(child, 'SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      finish(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout = (stdout + s).slice(0, MAX_OUTPUT);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr = (stderr + s).slice(0, MAX_OUTPUT);
    });
    child.on('error', (err) => finish(new Error(`${what}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return finish(undefined);
      const why = stderr.trim().split('\n')[0] || stdout.trim().split('\n')[0] || 'no output';
      finish(new Error(`${what}: exited with ${signal ?? code}: ${why}`));
    });
  });
}

export function createVcgencmd(opts: VcgencmdOptions): Vcgencmd {
  const runs = new Map<string, () => Promise<string>>();
  return (args) => {
    const key = args.join(' ');
    let run = runs.get(key);
    if (!run) {
      run = memoize(() => {
        if (!opts.path) return Promise.reject(new Error(`vcgencmd not found (looked in ${VCGENCMD_PATHS.join(', ')})`));
        return runOnce(opts.path, args, opts.timeoutMs);
      }, opts.cacheMs);
      runs.set(key, run);
    }
    return run();
  };
}
