import { spawn } from 'node:child_process';
import { UserError } from '../../lib/errors.ts';
import { nodeReady, podReady, podTerminating, type V1Pod } from '../../lib/kube.ts';
import type { ChaosContext } from '../context.ts';
import { seconds, waitUntil } from '../context.ts';
import { assertSafeNodeName } from '../safety.ts';
import { resolveNode } from './nodeDrain.ts';

// Node kill: a hard node loss through a hook the user supplies (ssh + systemctl
// stop k3s-agent, a cloud CLI, a smart plug), and the three times that matter:
// until Kubernetes sees the node NotReady, until the pods it ran are Ready
// elsewhere, and until every workload of the namespace is whole again. The
// restore hook is registered as a rollback before the kill hook runs.

export interface NodeKillSpec {
  node: string;
  /** Shell command; `{node}` is replaced by the node name. */
  exec: string;
  restore: string;
  /** Workloads whose health defines "service whole" (label selector of Deployments). */
  selector: string;
  notReadyTimeoutMs: number;
  recoverTimeoutMs: number;
  hookTimeoutMs: number;
}

export interface NodeKillTimes {
  node: string;
  notReadyMs?: number;
  podsRescheduledMs?: number;
  serviceWholeMs?: number;
  /** Pods of the namespace that ran on the node when it was killed. */
  podsOnNode: string[];
}

export interface HookResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Run a hook through the shell with `{node}` substituted; output kept for the journal. */
export function runHook(template: string, node: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<HookResult> {
  const command = template.replaceAll('{node}', assertSafeNodeName(node));
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal, timeout: opts.timeoutMs });
    let output = '';
    const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(err));
    child.on('close', (code) => resolve({ code, output: output.trim(), ms: Date.now() - start }));
  });
}

/** The Deployment a pod belongs to: its ReplicaSet's name minus the pod-template-hash. */
export function deploymentOfPod(p: V1Pod): string | undefined {
  const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  const hash = p.metadata?.labels?.['pod-template-hash'];
  return rs && hash && rs.endsWith(`-${hash}`) ? rs.slice(0, -hash.length - 1) : rs;
}

export function describeNodeKill(s: NodeKillSpec): string {
  return `stop node ${s.node} with \`${s.exec}\`, measure recovery, restore with \`${s.restore}\``;
}

export async function nodeKill(cx: ChaosContext, s: NodeKillSpec): Promise<NodeKillTimes> {
  const node = await resolveNode(cx, s.node);
  const onNode = (await cx.kube.listPods(cx.namespace, { fieldSelector: `spec.nodeName=${node}` })).filter((p) => !podTerminating(p));
  const times: NodeKillTimes = { node, podsOnNode: onNode.map((p) => p.metadata!.name!) };
  const affected = [...new Set(onNode.map(deploymentOfPod).filter((d): d is string => !!d))];
  if (cx.dryRun) {
    cx.say(`would run: ${s.exec.replaceAll('{node}', node)}`);
    cx.say(`would wait for node ${node} NotReady, then for ${onNode.length} pod(s) (${affected.join(', ') || 'none'}) Ready elsewhere`);
    cx.say(`would run on rollback: ${s.restore.replaceAll('{node}', node)}`);
    cx.journal.action({ name: 'node-kill', detail: `node ${node}`, ok: true, dryRun: true });
    return times;
  }

  cx.rollbacks.add(`restore node ${node}`, async (signal) => {
    const r = await runHook(s.restore, node, { timeoutMs: s.hookTimeoutMs, signal });
    if (r.code !== 0) throw new Error(`restore hook exited ${r.code}: ${r.output.split('\n').pop() ?? ''}`);
    const back = await waitUntil(() => cx.kube.getNode(node), nodeReady, { timeoutMs: s.recoverTimeoutMs, pollMs: cx.pollMs, signal });
    if (!back.ok) throw new Error(`node ${node} not Ready ${seconds(back.elapsedMs)} after the restore hook`);
  });

  const start = Date.now();
  const hook = await runHook(s.exec, node, { timeoutMs: s.hookTimeoutMs, signal: cx.signal });
  cx.journal.action({
    name: 'node-kill',
    detail: `node ${node}: hook exited ${hook.code} after ${seconds(hook.ms)}`,
    ok: hook.code === 0,
    error: hook.code === 0 ? undefined : hook.output.split('\n').pop(),
  });
  if (hook.code !== 0) throw new UserError(`node-kill hook for ${node} exited ${hook.code}: ${hook.output.split('\n').pop() ?? ''}`);

  const poll = { pollMs: cx.pollMs, signal: cx.signal };
  const down = await waitUntil(() => cx.kube.getNode(node), (n) => !nodeReady(n), { ...poll, timeoutMs: s.notReadyTimeoutMs });
  if (!down.ok) throw new UserError(`node ${node} still Ready ${seconds(down.elapsedMs)} after the hook: did it really stop the kubelet?`);
  times.notReadyMs = Date.now() - start;
  cx.journal.measure('nodeNotReadyMs', times.notReadyMs);
  cx.journal.action({ name: 'node-not-ready', detail: `node ${node} NotReady after ${seconds(times.notReadyMs)}`, ok: true });

  // Rescheduled: every affected Deployment has its replicas Ready on other nodes.
  const rescheduled = await waitUntil(
    async () => {
      const pods = await cx.kube.listPods(cx.namespace);
      const deps = await Promise.all(affected.map((d) => cx.kube.getDeployment(cx.namespace, d)));
      return deps.map((d) => {
        const name = d.metadata!.name!;
        const readyElsewhere = pods.filter((p) => deploymentOfPod(p) === name && p.spec?.nodeName !== node && podReady(p) && !podTerminating(p)).length;
        return { name, readyElsewhere, want: d.spec?.replicas ?? 1 };
      });
    },
    (rows) => rows.every((r) => r.readyElsewhere >= r.want),
    { ...poll, timeoutMs: s.recoverTimeoutMs },
  );
  if (!rescheduled.ok) {
    const missing = rescheduled.value.filter((r) => r.readyElsewhere < r.want).map((r) => `${r.name} ${r.readyElsewhere}/${r.want}`);
    throw new UserError(`pods of node ${node} not Ready elsewhere within ${seconds(s.recoverTimeoutMs)}: ${missing.join(', ')}`);
  }
  times.podsRescheduledMs = Date.now() - start;
  cx.journal.measure('podsRescheduledMs', times.podsRescheduledMs);
  cx.journal.action({ name: 'pods-rescheduled', detail: `${affected.join(', ') || 'no workloads'} Ready elsewhere after ${seconds(times.podsRescheduledMs)}`, ok: true });

  // Whole: every selected Deployment available at full size.
  const whole = await waitUntil(
    () => cx.kube.listDeployments(cx.namespace, s.selector),
    (ds) => ds.every((d) => (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1)),
    { ...poll, timeoutMs: s.recoverTimeoutMs },
  );
  if (!whole.ok) {
    const short = whole.value.filter((d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)).map((d) => d.metadata?.name);
    throw new UserError(`service not whole within ${seconds(s.recoverTimeoutMs)}: ${short.join(', ')} short of replicas`);
  }
  times.serviceWholeMs = Date.now() - start;
  cx.journal.measure('serviceWholeMs', times.serviceWholeMs);
  cx.journal.action({ name: 'service-whole', detail: `every ${s.selector} deployment available after ${seconds(times.serviceWholeMs)}`, ok: true });
  return times;
}
