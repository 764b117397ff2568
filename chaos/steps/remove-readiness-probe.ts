import type { V1Probe } from '@kubernetes/client-node';
import { EXIT, UserError } from '../../lib/errors.ts';
import { STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { mapping, objectName } from '../schema/fields.ts';
import { defineStep } from './step.ts';

// The tutorial's "no readiness probe" state: the probe of a Deployment's first
// container removed, and always put back by the step's rollback.

/** How long the rollback waits for the restored Deployment to roll out (its own signal bounds it too). */
const ROLLBACK_ROLLOUT_MS = 5 * 60_000;

interface ProbeState {
  container: string;
  /** The probe to put back; undefined when the container has none (nothing to do). */
  original?: V1Probe;
}

const patchOf = (container: string, probe: V1Probe | null) => ({ spec: { template: { spec: { containers: [{ name: container, readinessProbe: probe }] } } } });

export const removeReadinessProbe = defineStep({
  kind: 'remove-readiness-probe',
  schema: mapping({ deployment: objectName })
    .meta({ id: 'remove-readiness-probe' })
    .transform((b) => ({ deployment: b.deployment })),
  describe: (s) => `remove the readiness probe of deployment ${s.deployment} (restored on rollback)`,
  limitMs: () => STEP_LIMIT_SLACK_MS,
  async prepare(cx, s): Promise<ProbeState> {
    const d = await cx.kube.getDeployment(cx.namespace, s.deployment);
    const container = d.spec?.template.spec?.containers[0];
    if (!container) throw new UserError(`deployment "${s.deployment}" has no container`, EXIT.badInput);
    return { container: container.name, original: container.readinessProbe };
  },
  dryRun(cx, s, { container, original }) {
    const detail = `remove the readiness probe of ${cx.namespace}/${s.deployment} (container ${container})`;
    if (original) cx.say(`would ${detail}, and restore it afterwards`);
    cx.journal.action({ name: 'remove-readiness-probe', detail: original ? detail : `${detail}: it has none`, ok: true, dryRun: true });
  },
  rollbacks: (cx, s, { container, original }) => {
    if (!original) return [];
    const restore = patchOf(container, original);
    return [
      {
        name: `restore the readiness probe of ${s.deployment}`,
        command: cx.kube.kubectlPatchDeployment(cx.namespace, s.deployment, restore),
        undo: async (signal) => {
          await cx.kube.patchDeployment(cx.namespace, s.deployment, restore, signal);
          await cx.kube.waitForRollout(cx.namespace, s.deployment, { timeoutMs: ROLLBACK_ROLLOUT_MS, pollMs: cx.pollMs, signal });
        },
      },
    ];
  },
  async run(cx, s, { container, original }) {
    const detail = `remove the readiness probe of ${cx.namespace}/${s.deployment} (container ${container})`;
    if (!original) {
      cx.journal.action({ name: 'remove-readiness-probe', detail: `${detail}: it has none`, ok: true });
      return;
    }
    await cx.kube.patchDeployment(cx.namespace, s.deployment, patchOf(container, null), cx.signal);
    cx.journal.action({ name: 'remove-readiness-probe', detail, ok: true });
  },
});
