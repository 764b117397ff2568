import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../lib/errors.ts';
import { podTerminating, type V1Pod } from '../../lib/kube.ts';
import type { ChaosContext } from '../context.ts';
import { seconds } from '../context.ts';
import { checkNodeVictim, pickVictimNode } from '../safety.ts';

// Node drain as `kubectl drain` does it, limited to the run's namespace: cordon,
// then evict each pod through the Eviction API so PodDisruptionBudgets are
// respected (a 429 is retried until the budget allows it or time runs out).
// The node is uncordoned by a rollback registered before it is cordoned.

export interface DrainSpec {
  /** A node name, or 'random' for a Ready, non-control-plane node that is not the last one. */
  node: string;
  /** Give up on a pod whose eviction a PDB keeps refusing after this long. */
  evictionTimeoutMs: number;
  /** Wait between retries of a refused eviction. */
  retryMs: number;
  graceSeconds?: number;
}

export interface DrainResult {
  node: string;
  evicted: string[];
  /** Evictions a PodDisruptionBudget refused (429) before it let them through. */
  refusals: number;
}

/** Pods a drain moves: not DaemonSet-managed, not static (mirror) pods, not already terminating. */
export function drainablePods(pods: V1Pod[]): V1Pod[] {
  return pods.filter(
    (p) =>
      !podTerminating(p) &&
      !p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') &&
      !p.metadata?.annotations?.['kubernetes.io/config.mirror'],
  );
}

export async function resolveNode(cx: ChaosContext, node: string): Promise<string> {
  const nodes = await cx.kube.listNodes();
  const victim = node === 'random' ? pickVictimNode(nodes, { force: cx.force }, cx.random) : checkNodeVictim(nodes, node, { force: cx.force });
  return victim.metadata!.name!;
}

export async function nodeDrain(cx: ChaosContext, s: DrainSpec): Promise<DrainResult> {
  const node = await resolveNode(cx, s.node);
  const pods = drainablePods(await cx.kube.listPods(cx.namespace, { fieldSelector: `spec.nodeName=${node}` }));
  const result: DrainResult = { node, evicted: [], refusals: 0 };
  if (cx.dryRun) {
    cx.say(`would cordon node ${node}`);
    cx.journal.action({ name: 'cordon', detail: `node ${node}`, ok: true, dryRun: true });
    for (const p of pods) {
      cx.say(`would evict pod ${cx.namespace}/${p.metadata!.name} from ${node} (PodDisruptionBudgets respected)`);
      cx.journal.action({ name: 'evict', detail: `pod ${cx.namespace}/${p.metadata!.name}`, ok: true, dryRun: true });
    }
    cx.say(`would uncordon node ${node} on rollback`);
    return result;
  }
  const before = await cx.kube.getNode(node);
  if (!before.spec?.unschedulable) {
    cx.rollbacks.add(`uncordon node ${node}`, async () => {
      await cx.kube.setUnschedulable(node, false);
    });
  }
  await cx.kube.setUnschedulable(node, true);
  cx.journal.action({ name: 'cordon', detail: `node ${node}`, ok: true });

  await Promise.all(
    pods.map(async (p) => {
      const name = p.metadata!.name!;
      const start = Date.now();
      let refusedOnce = false;
      for (;;) {
        cx.signal.throwIfAborted();
        const r = await cx.kube.evictPod(cx.namespace, name, s.graceSeconds);
        if (r.evicted) {
          result.evicted.push(name);
          cx.journal.action({ name: 'evict', detail: `pod ${cx.namespace}/${name} after ${seconds(Date.now() - start)}`, ok: true });
          return;
        }
        result.refusals += 1;
        if (!refusedOnce) {
          refusedOnce = true;
          cx.journal.action({ name: 'evict-refused', detail: `pod ${cx.namespace}/${name}: ${r.reason}; retrying every ${seconds(s.retryMs)}`, ok: true });
        }
        if (Date.now() - start >= s.evictionTimeoutMs) {
          const why = `eviction of pod ${name} still refused after ${seconds(s.evictionTimeoutMs)}: ${r.reason}`;
          cx.journal.action({ name: 'evict', detail: `pod ${cx.namespace}/${name}`, ok: false, error: why });
          throw new UserError(why);
        }
        await sleep(s.retryMs, undefined, { signal: cx.signal });
      }
    }),
  );
  return result;
}
