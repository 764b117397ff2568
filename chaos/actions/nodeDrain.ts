import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UserError } from '../../lib/errors.ts';
import { podTerminating, type V1Pod } from '../../lib/kube.ts';
import type { ChaosContext } from '../context.ts';
import { seconds } from '../context.ts';
import { checkNodeVictim, pickVictimNode } from '../safety.ts';

// Node drain as `kubectl drain` does it, limited to the run's namespace: cordon,
// then evict each pod through the Eviction API so PodDisruptionBudgets are
// respected (a 429 is retried until the budget allows it or time runs out; a 404
// means the pod is already gone, which counts as evicted). When one eviction
// fails, the others stop before the rollback uncordons the node, so no eviction
// is sent after the node was given back. The node is uncordoned by a rollback
// registered before it is cordoned.

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
  const rules = { allowControlPlane: cx.allowControlPlane };
  const victim = node === 'random' ? pickVictimNode(nodes, rules, cx.random) : checkNodeVictim(nodes, node, rules);
  return victim.metadata!.name!;
}

/** Evict one pod, retrying while a PDB refuses, until evicted, `signal` aborts, or its time runs out. */
async function evictWithRetries(cx: ChaosContext, s: DrainSpec, name: string, result: DrainResult, signal: AbortSignal): Promise<void> {
  const start = Date.now();
  let refusedOnce = false;
  for (;;) {
    signal.throwIfAborted();
    const r = await cx.kube.evictPod(cx.namespace, name, s.graceSeconds, signal);
    if (r.evicted) {
      result.evicted.push(name);
      const how = r.gone ? 'already gone (404)' : `after ${seconds(Date.now() - start)}`;
      cx.journal.action({ name: 'evict', detail: `pod ${cx.namespace}/${name} ${how}`, ok: true });
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
      // The drain's verdict: a budget kept the node from being drained.
      throw new UserError(why, EXIT.failed);
    }
    await sleep(s.retryMs, undefined, { signal });
  }
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
    cx.rollbacks.add(`uncordon node ${node}`, cx.kube.kubectl('uncordon', node), async (signal) => {
      await cx.kube.setUnschedulable(node, false, signal);
    });
  }
  await cx.kube.setUnschedulable(node, true, cx.signal);
  cx.journal.action({ name: 'cordon', detail: `node ${node}`, ok: true });

  // One failure stops the sibling loops; all of them have ended before this returns or throws.
  const siblings = new AbortController();
  const signal = AbortSignal.any([cx.signal, siblings.signal]);
  const outcomes = await Promise.allSettled(
    pods.map((p) =>
      evictWithRetries(cx, s, p.metadata!.name!, result, signal).catch((err: unknown) => {
        siblings.abort(err);
        throw err;
      }),
    ),
  );
  // The first failure is the reason (the siblings it stopped fail with it).
  if (siblings.signal.aborted) throw siblings.signal.reason;
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return result;
}
