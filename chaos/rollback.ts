import { describeError } from '../lib/errors.ts';
import type { Journal } from './journal.ts';

// Rollbacks run whatever happened before them: success, a failed step, a
// timeout or Ctrl-C. They are registered *before* the change they undo is made
// (so a half-done change is still undone) and run last-in, first-out, each with
// its own time limit and a signal of its own, since the run's signal may be the
// one that was aborted.

export type Undo = (signal: AbortSignal) => Promise<void>;

export class Rollbacks {
  private stack: { name: string; undo: Undo }[] = [];

  add(name: string, undo: Undo): void {
    this.stack.push({ name, undo });
  }

  get pending(): string[] {
    return this.stack.map((r) => r.name).reverse();
  }

  /** Run every registered rollback, newest first; returns true when all succeeded. */
  async runAll(journal: Journal, timeoutMs: number): Promise<boolean> {
    let ok = true;
    while (this.stack.length > 0) {
      const { name, undo } = this.stack.pop()!;
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        await undo(signal);
        journal.rollback({ name, ok: true });
      } catch (err) {
        ok = false;
        const why = signal.aborted ? `timed out after ${Math.round(timeoutMs / 1000)} s` : describeError(err);
        journal.rollback({ name, ok: false, error: why });
      }
    }
    return ok;
  }
}
