import { UserError } from '../../lib/errors.ts';
import { rolloutState } from '../../lib/kube.ts';
import { parseComparison } from '../compare.ts';
import type { ChaosContext } from '../context.ts';

// Kubernetes probes (LitmusChaos k8sProbe): read an object and compare one field.

export type KubernetesProbeSpec =
  /** Ready replicas of a Deployment, e.g. `>= 2`. */
  | { deployment: string; readyReplicas: string }
  /** Current replicas of a HorizontalPodAutoscaler. */
  | { hpa: string; replicas: string }
  /** The HPA can compute a replica count (ScalingActive=True): false without CPU requests. */
  | { hpa: string; scalingActive: boolean }
  /** The Deployment's rollout is complete. */
  | { rollout: string };

export interface ProbeOutcome {
  ok: boolean;
  value: number | string | boolean;
  reason: string;
}

export function describeKubernetesProbe(s: KubernetesProbeSpec): string {
  if ('readyReplicas' in s) return `deployment ${s.deployment} ready replicas ${parseComparison(s.readyReplicas, 'readyReplicas').text}`;
  if ('replicas' in s) return `hpa ${s.hpa} replicas ${parseComparison(s.replicas, 'replicas').text}`;
  if ('scalingActive' in s) return `hpa ${s.hpa} ScalingActive is ${s.scalingActive}`;
  return `deployment ${s.rollout} rollout complete`;
}

export async function probeKubernetes(cx: ChaosContext, s: KubernetesProbeSpec): Promise<ProbeOutcome> {
  const ns = cx.namespace;
  if ('readyReplicas' in s) {
    const c = parseComparison(s.readyReplicas, 'readyReplicas');
    const d = await cx.kube.getDeployment(ns, s.deployment);
    const ready = d.status?.readyReplicas ?? 0;
    return { ok: c.test(ready), value: ready, reason: `${s.deployment}: ${ready} of ${d.spec?.replicas ?? 1} replicas Ready (want ${c.text})` };
  }
  if ('replicas' in s) {
    const c = parseComparison(s.replicas, 'replicas');
    const h = await cx.kube.getHpa(ns, s.hpa);
    const cur = h.status?.currentReplicas ?? 0;
    return { ok: c.test(cur), value: cur, reason: `hpa ${s.hpa}: ${cur} replicas, desired ${h.status?.desiredReplicas ?? '?'} (want ${c.text})` };
  }
  if ('scalingActive' in s) {
    const h = await cx.kube.getHpa(ns, s.hpa);
    const cond = h.status?.conditions?.find((x) => x.type === 'ScalingActive');
    if (!cond) return { ok: !s.scalingActive, value: 'unknown', reason: `hpa ${s.hpa} has not reported ScalingActive yet` };
    const active = cond.status === 'True';
    return { ok: active === s.scalingActive, value: active, reason: `hpa ${s.hpa} ScalingActive=${cond.status} (${cond.reason}): ${cond.message ?? ''}`.trim() };
  }
  if ('rollout' in s) {
    const st = rolloutState(await cx.kube.getDeployment(ns, s.rollout));
    return { ok: st.done, value: st.done, reason: st.message };
  }
  throw new UserError('unknown kubernetes probe');
}
