import { setTimeout as sleep } from 'node:timers/promises';
import type { Kube } from '../lib/kube.ts';
import type { Logger } from '../lib/log.ts';
import type { Journal } from './journal.ts';
import type { Rollbacks } from './rollback.ts';

// What every action and probe of a run receives.

export interface ChaosContext {
  kube: Kube;
  namespace: string;
  journal: Journal;
  rollbacks: Rollbacks;
  /** Aborted on Ctrl-C or when the run's time limit is reached. */
  signal: AbortSignal;
  log: Logger;
  /** Read the cluster, print what would be done, change nothing. */
  dryRun: boolean;
  /** How often waits poll the API. */
  pollMs: number;
  /** `--allow-control-plane`: node actions may take a control-plane node. */
  allowControlPlane: boolean;
  /** Where a line for the person running the command goes (the plan, "would ..." lines). */
  say: (line: string) => void;
  random?: () => number;
  /** This run's id: the label on what it creates or changes, so a leftover can be traced (`chaos cleanup`). */
  runId: string;
}

export interface WaitResult<T> {
  ok: boolean;
  value: T;
  elapsedMs: number;
}

/**
 * Poll `read` until `done(value)` or `timeoutMs` passes; never throws on
 * timeout (the caller turns it into a verdict), throws on abort.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  opts: { timeoutMs: number; pollMs: number; signal: AbortSignal },
): Promise<WaitResult<T>> {
  const start = Date.now();
  for (;;) {
    opts.signal.throwIfAborted();
    const value = await read();
    const elapsedMs = Date.now() - start;
    if (done(value)) return { ok: true, value, elapsedMs };
    if (elapsedMs >= opts.timeoutMs) return { ok: false, value, elapsedMs };
    await sleep(Math.min(opts.pollMs, Math.max(1, opts.timeoutMs - elapsedMs)), undefined, { signal: opts.signal });
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** A duration as written in a plan: `2m`, `1.5s`. */
export const secs = (ms: number): string => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : `${+(ms / 1000).toFixed(2)}s`);
