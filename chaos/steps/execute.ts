import { EXIT, UserError, describeError } from '../../lib/errors.ts';
import { seconds, type ChaosContext } from '../context.ts';
import type { RollbackHandle } from '../rollback.ts';
import type { StepRegistry } from './index.ts';
import type { AnyStep, RunServices, StepContext } from './step.ts';

// The one executor of every step kind (chaostoolkit's activity runner): it
// journals the step's start, end, duration and status, bounds it by its time
// limit, does the dry run instead of the step, and registers the step's
// rollbacks before the step changes anything.

export async function executeStep(cx: ChaosContext, services: RunServices, steps: StepRegistry, step: AnyStep, index: number): Promise<void> {
  const def = steps.get(step.kind);
  const description = def.describe(step.spec);
  const finish = cx.journal.step({ index, kind: step.kind, description });
  const limitMs = def.limitMs?.(step.spec);
  const limit = limitMs === undefined ? undefined : AbortSignal.timeout(limitMs);
  const registered: RollbackHandle[] = [];
  const scx: StepContext = {
    ...cx,
    signal: limit ? AbortSignal.any([cx.signal, limit]) : cx.signal,
    run: services,
    restore: () => cx.rollbacks.runNow(registered),
  };
  try {
    const state: unknown = await def.prepare?.(scx, step.spec);
    if (cx.dryRun) {
      if (def.dryRun) await def.dryRun(scx, step.spec, state);
      else cx.say(`would ${description}`);
      finish('dry run');
      return;
    }
    for (const r of def.rollbacks?.(scx, step.spec, state) ?? []) registered.push(cx.rollbacks.add(r.name, r.command, r.undo));
    await def.run(scx, step.spec, state);
    finish('succeeded');
  } catch (err) {
    if (limit?.aborted && !cx.signal.aborted) {
      const why = `step ${index} (${step.kind}) did not finish within its limit of ${seconds(limitMs!)}`;
      finish('timed out', why);
      throw new UserError(why, EXIT.unjudged);
    }
    finish(cx.signal.aborted ? 'interrupted' : 'failed', describeError(err));
    throw err;
  }
}
