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
// forced to exit before it ran, and journaled when it failed. A step may run its
// own rollbacks early (a fault removed at the end of its duration); they are
// journaled the same way and do not run again at the end.

export type Undo = (signal: AbortSignal) => Promise<void>;

interface Registered {
  name: string;
  undo: Undo;
  /** The command a person runs to do the same (kubectl ..., or the restore hook). */
  command: string;
  settled: () => void;
}

/** A registered rollback, for running it before the end of the run. */
export type RollbackHandle = Readonly<Registered>;

/** Rejects when `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<never> =>
  new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

export class Rollbacks {
  private stack: Registered[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly timeoutMs: number,
  ) {}

  add(name: string, command: string, undo: Undo): RollbackHandle {
    const r = { name, undo, command, settled: pendingRestore(command) };
    this.stack.push(r);
    return r;
  }

  /** Run one rollback within the time limit and journal it; true when it succeeded. */
  private async runOne({ name, undo, command, settled }: Registered): Promise<boolean> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      await Promise.race([undo(signal), aborted(signal)]);
      this.journal.rollback({ name, ok: true, command });
      return true;
    } catch (err) {
      const why = signal.aborted ? `timed out after ${+(this.timeoutMs / 1000).toFixed(2)} s` : describeError(err);
      this.journal.rollback({ name, ok: false, error: why, command });
      return false;
    } finally {
      settled();
    }
  }

  /** Run these rollbacks now, newest first, if they have not run yet; true when all succeeded. */
  async runNow(handles: readonly RollbackHandle[]): Promise<boolean> {
    let ok = true;
    for (const h of [...handles].reverse()) {
      const i = this.stack.indexOf(h as Registered);
      if (i < 0) continue;
      this.stack.splice(i, 1);
      ok = (await this.runOne(h as Registered)) && ok;
    }
    return ok;
  }

  /** Run every registered rollback, newest first, each within the limit; returns true when all succeeded. */
  async runAll(): Promise<boolean> {
    let ok = true;
    while (this.stack.length > 0) ok = (await this.runOne(this.stack.pop()!)) && ok;
    return ok;
  }
}
