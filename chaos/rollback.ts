import { describeError } from '../lib/errors.ts';
import { pendingRestore } from '../lib/restore.ts';
import type { Journal } from './journal.ts';

// Rollbacks run whatever happened before them: success, a failed step, a
// timeout or Ctrl-C. They are registered *before* the change they undo is made
// (so a half-done change is still undone) and run last-in, first-out, each with
// its own time limit and a signal of its own, since the run's signal may be the
// one that was aborted. The limit is enforced by racing the undo against it, so
// an undo stuck in a call that ignores its signal cannot hold the run. Each
// rollback carries the command that does it by hand: printed if the process is
// forced to exit before it ran, and journaled when it failed.

export type Undo = (signal: AbortSignal) => Promise<void>;

interface Registered {
  name: string;
  undo: Undo;
  /** The command a person runs to do the same (kubectl ..., or the restore hook). */
  command: string;
  settled: () => void;
}

/** Rejects when `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

export class Rollbacks {
  private stack: Registered[] = [];

  add(name: string, command: string, undo: Undo): void {
    this.stack.push({ name, undo, command, settled: pendingRestore(command) });
  }

  get pending(): { name: string; command: string }[] {
    return this.stack.map(({ name, command }) => ({ name, command })).reverse();
  }

  /** Run every registered rollback, newest first, each within `timeoutMs`; returns true when all succeeded. */
  async runAll(journal: Journal, timeoutMs: number): Promise<boolean> {
    let ok = true;
    while (this.stack.length > 0) {
      const { name, undo, command, settled } = this.stack.pop()!;
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await Promise.race([undo(signal), aborted(signal)]);
        journal.rollback({ name, ok: true, command });
      } catch (err) {
        ok = false;
        const why = signal.aborted ? `timed out after ${+(timeoutMs / 1000).toFixed(2)} s` : describeError(err);
        journal.rollback({ name, ok: false, error: why, command });
      } finally {
        settled();
      }
    }
    return ok;
  }
}
