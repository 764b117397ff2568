import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT, UserError } from '../../lib/errors.ts';
import { podTerminating, type V1Pod } from '../../lib/kube.ts';
import { GAMEDAY_DEFAULTS as D, MIN_INTERVAL_MS, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { seconds, secs, type ChaosContext } from '../context.ts';
import { checkNodeVictim, pickVictimNode } from '../safety.ts';
import { duration, graceSeconds, mapping, objectName } from '../schema/fields.ts';
import { defineStep } from './step.ts';

// Node drain as `kubectl drain` does it, limited to the run's namespace: cordon,
// then evict each pod through the Eviction API so PodDisruptionBudgets are
// respected (a 429 is retried until the budget allows it or time runs out; a 404
// means the pod is already gone, which counts as evicted). When one eviction
// fails, the others stop before the rollback uncordons the node, so no eviction
// is sent after the node was given back. The uncordon is the step's rollback.

export interface DrainSpec {
  /** A node name, or 'random' for a Ready, non-control-plane node that is not the last one. */
  node: string;
  /** Give up on a pod whose eviction a PDB keeps refusing after this long. */
  evictionTimeoutMs: number;
  /** Wait between retries of a refused eviction. */
  retryMs: number;
  graceSeconds?: number;
  /** Keep the node drained this long before the step ends. */
  holdMs?: number;
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

/** The node a node action takes: the named one, checked against the rails, or a random eligible one. */
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

interface DrainState {
  node: string;
  pods: string[];
  /** Cordoned before the drain (by someone else): then the rollback leaves it cordoned. */
  wasCordoned: boolean;
}

export const nodeDrain = defineStep({
  kind: 'node-drain',
  schema: mapping({
    node: objectName.meta({ description: 'a node name, or random (a Ready worker that is not the last one)' }),
    evictionTimeout: duration(1).optional(),
    retry: duration(MIN_INTERVAL_MS.evictionRetry).optional(),
    hold: duration().optional(),
    grace: graceSeconds.optional(),
  })
    .meta({ id: 'node-drain' })
    .transform(
      (b): DrainSpec => ({ node: b.node, evictionTimeoutMs: b.evictionTimeout ?? D.evictionTimeoutMs, retryMs: b.retry ?? D.evictionRetryMs, graceSeconds: b.grace, holdMs: b.hold || undefined }),
    ),
  describe: (s) =>
    `drain node ${s.node} (cordon, evict pods through the Eviction API, PDBs respected, 429s retried every ${secs(s.retryMs)} up to ${secs(s.evictionTimeoutMs)})${s.holdMs ? `, hold ${secs(s.holdMs)}` : ''}, uncordon on rollback`,
  limitMs: (s) => s.evictionTimeoutMs + (s.holdMs ?? 0) + STEP_LIMIT_SLACK_MS,
  async prepare(cx, s): Promise<DrainState> {
    const node = await resolveNode(cx, s.node);
    const pods = drainablePods(await cx.kube.listPods(cx.namespace, { fieldSelector: `spec.nodeName=${node}` })).map((p) => p.metadata!.name!);
    const wasCordoned = !!(await cx.kube.getNode(node)).spec?.unschedulable;
    return { node, pods, wasCordoned };
  },
  dryRun(cx, _s, { node, pods }) {
    cx.say(`would cordon node ${node}`);
    cx.journal.action({ name: 'cordon', detail: `node ${node}`, ok: true, dryRun: true });
    for (const p of pods) {
      cx.say(`would evict pod ${cx.namespace}/${p} from ${node} (PodDisruptionBudgets respected)`);
      cx.journal.action({ name: 'evict', detail: `pod ${cx.namespace}/${p}`, ok: true, dryRun: true });
    }
    cx.say(`would uncordon node ${node} on rollback`);
  },
  rollbacks: (cx, _s, { node, wasCordoned }) =>
    wasCordoned ? [] : [{ name: `uncordon node ${node}`, command: cx.kube.kubectl('uncordon', node), undo: async (signal) => void (await cx.kube.setUnschedulable(node, false, signal)) }],
  async run(cx, s, { node, pods }) {
    await cx.kube.setUnschedulable(node, true, cx.signal);
    cx.journal.action({ name: 'cordon', detail: `node ${node}`, ok: true });
    const result: DrainResult = { node, evicted: [], refusals: 0 };
    // One failure stops the sibling loops; all of them have ended before this returns or throws.
    const siblings = new AbortController();
    const signal = AbortSignal.any([cx.signal, siblings.signal]);
    const outcomes = await Promise.allSettled(
      pods.map((p) =>
        evictWithRetries(cx, s, p, result, signal).catch((err: unknown) => {
          siblings.abort(err);
          throw err;
        }),
      ),
    );
    // The first failure is the reason (the siblings it stopped fail with it).
    if (siblings.signal.aborted) throw siblings.signal.reason;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    cx.journal.measure('evicted', result.evicted.length);
    cx.journal.measure('evictionRefusals', result.refusals);
    if (s.holdMs) await sleep(s.holdMs, undefined, { signal: cx.signal });
  },
});
