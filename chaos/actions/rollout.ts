import { EXIT, UserError } from '../../lib/errors.ts';
import type { ChaosContext } from '../context.ts';

// Deployment-level disturbances of the readiness game day: a rollout restart
// (every pod replaced by a rolling update) and the tutorial's "no readiness
// probe" state, which is always put back by a rollback.

/** How long a rollback waits for the restored Deployment to roll out (its own signal bounds it too). */
const ROLLBACK_ROLLOUT_MS = 5 * 60_000;

export async function rolloutRestart(cx: ChaosContext, deployment: string): Promise<void> {
  const detail = `rollout restart of deployment ${cx.namespace}/${deployment}`;
  await cx.kube.getDeployment(cx.namespace, deployment);
  if (cx.dryRun) {
    cx.say(`would start a ${detail}`);
    cx.journal.action({ name: 'rollout-restart', detail, ok: true, dryRun: true });
    return;
  }
  await cx.kube.restartDeployment(cx.namespace, deployment);
  cx.journal.action({ name: 'rollout-restart', detail, ok: true });
}

/** Remove the readiness probe of a Deployment's first container; a rollback puts the original back. */
export async function removeReadinessProbe(cx: ChaosContext, deployment: string): Promise<void> {
  const d = await cx.kube.getDeployment(cx.namespace, deployment);
  const container = d.spec?.template.spec?.containers[0];
  if (!container) throw new UserError(`deployment "${deployment}" has no container`, EXIT.badInput);
  const original = container.readinessProbe;
  const detail = `remove the readiness probe of ${cx.namespace}/${deployment} (container ${container.name})`;
  if (!original) {
    cx.journal.action({ name: 'remove-readiness-probe', detail: `${detail}: it has none`, ok: true, dryRun: cx.dryRun });
    return;
  }
  if (cx.dryRun) {
    cx.say(`would ${detail}, and restore it afterwards`);
    cx.journal.action({ name: 'remove-readiness-probe', detail, ok: true, dryRun: true });
    return;
  }
  const patch = (probe: unknown) => ({ spec: { template: { spec: { containers: [{ name: container.name, readinessProbe: probe }] } } } });
  const restore = patch(original);
  cx.rollbacks.add(`restore the readiness probe of ${deployment}`, cx.kube.kubectlPatchDeployment(cx.namespace, deployment, restore), async (signal) => {
    await cx.kube.patchDeployment(cx.namespace, deployment, restore, signal);
    await cx.kube.waitForRollout(cx.namespace, deployment, { timeoutMs: ROLLBACK_ROLLOUT_MS, pollMs: cx.pollMs, signal });
  });
  await cx.kube.patchDeployment(cx.namespace, deployment, patch(null), cx.signal);
  cx.journal.action({ name: 'remove-readiness-probe', detail, ok: true });
}
