import { describeError } from '../../lib/errors.ts';
import { GAMEDAY_DEFAULTS as D, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { seconds, secs } from '../context.ts';
import { duration, mapping, objectName } from '../schema/fields.ts';
import { defineStep } from './step.ts';

// `kubectl rollout restart`: every pod of a Deployment replaced by a rolling
// update; the step's verdict is whether the rollout completes in time.

export interface RolloutRestartSpec {
  deployment: string;
  withinMs: number;
}

export const rolloutRestart = defineStep({
  kind: 'rollout-restart',
  schema: mapping({ deployment: objectName, within: duration(1).optional() })
    .meta({ id: 'rollout-restart' })
    .transform((b): RolloutRestartSpec => ({ deployment: b.deployment, withinMs: b.within ?? D.rolloutWithinMs })),
  describe: (s) => `rollout restart deployment ${s.deployment}, wait up to ${secs(s.withinMs)} for it`,
  limitMs: (s) => s.withinMs + STEP_LIMIT_SLACK_MS,
  prepare: async (cx, s) => void (await cx.kube.getDeployment(cx.namespace, s.deployment)),
  dryRun(cx, s) {
    const detail = `rollout restart of deployment ${cx.namespace}/${s.deployment}`;
    cx.say(`would start a ${detail}`);
    cx.journal.action({ name: 'rollout-restart', detail, ok: true, dryRun: true });
  },
  async run(cx, s) {
    await cx.kube.restartDeployment(cx.namespace, s.deployment);
    cx.journal.action({ name: 'rollout-restart', detail: `rollout restart of deployment ${cx.namespace}/${s.deployment}`, ok: true });
    const start = Date.now();
    const name = `rollout of ${s.deployment} completes`;
    try {
      await cx.kube.waitForRollout(cx.namespace, s.deployment, { timeoutMs: s.withinMs, pollMs: cx.pollMs, signal: cx.signal });
      cx.journal.measure('rolloutMs', Date.now() - start);
      cx.journal.verdict({ name, outcome: 'pass', reason: `complete after ${seconds(Date.now() - start)}` });
    } catch (err) {
      if (cx.signal.aborted) throw err;
      cx.journal.verdict({ name, outcome: 'fail', reason: describeError(err) });
    }
  },
});
