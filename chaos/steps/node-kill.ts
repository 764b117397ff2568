import { spawn } from 'node:child_process';
import { EXIT, UserError, describeError } from '../../lib/errors.ts';
import { nodeReady, podReady, podTerminating, type V1Pod } from '../../lib/kube.ts';
import { signalGroup } from '../../lib/proc.ts';
import { redactCommand } from '../../lib/secrets.ts';
import { GAMEDAY_DEFAULTS as D, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { seconds, waitUntil, type ChaosContext } from '../context.ts';
import { assertSafeNodeName } from '../safety.ts';
import { duration, labelSelector, mapping, objectName, text } from '../schema/fields.ts';
import { resolveNode } from './node-drain.ts';
import { defineStep } from './step.ts';

// Node kill: a hard node loss through a hook the user supplies (ssh + systemctl
// stop k3s-agent, a cloud CLI, a smart plug), and the three times that matter:
// until Kubernetes sees the node NotReady, until the pods it ran are Ready
// elsewhere, and until every workload of the namespace is whole again. The
// restore hook is the step's rollback, registered before the kill hook runs. Hooks run
// in a process group of their own, so a time limit or Ctrl-C stops everything
// they started; in journals and reports their text is redacted (lib/secrets.ts).

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

export interface HookResult {
  code: number | null;
  output: string;
  ms: number;
}

/** Grace between SIGTERM and SIGKILL for a hook's process group. */
const HOOK_KILL_GRACE_MS = 2000;

/**
 * Run a hook through the shell with `{node}` substituted; output kept for the journal.
 * The shell leads its own process group: on timeout or abort the whole group gets
 * SIGTERM, then SIGKILL, so nothing the hook started (ssh, a sleep, a pipeline) is left.
 */
export function runHook(template: string, node: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<HookResult> {
  const command = template.replaceAll('{node}', assertSafeNodeName(node));
  const start = Date.now();
  return new Promise((resolve, reject) => {
    opts.signal?.throwIfAborted();
    const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let killedBy: string | undefined;
    const keep = (b: Buffer) => (output = (output + b.toString()).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let hardKill: NodeJS.Timeout | undefined;
    const stop = (why: string) => {
      killedBy ??= why;
      signalGroup(child, 'SIGTERM');
      hardKill ??= setTimeout(() => signalGroup(child, 'SIGKILL'), HOOK_KILL_GRACE_MS);
    };
    const timer = setTimeout(() => stop(`timed out after ${seconds(opts.timeoutMs)}`), opts.timeoutMs);
    const onAbort = () => stop('interrupted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => reject(err));
    child.on('exit', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Whatever it left running in its group goes with it when it was stopped.
      if (killedBy) signalGroup(child, 'SIGKILL');
      clearTimeout(hardKill);
      // Let the pipes drain, but do not wait on a background child that keeps them open.
      const done = () => resolve({ code, output: killedBy ? `${output.trim()}\nhook ${killedBy}`.trim() : output.trim(), ms: Date.now() - start });
      const late = setTimeout(done, 200);
      child.once('close', () => {
        clearTimeout(late);
        done();
      });
    });
  });
}

/** The Deployment a pod belongs to: its ReplicaSet's name minus the pod-template-hash. */
export function deploymentOfPod(p: V1Pod): string | undefined {
  const rs = p.metadata?.ownerReferences?.find((o) => o.kind === 'ReplicaSet')?.name;
  const hash = p.metadata?.labels?.['pod-template-hash'];
  return rs && hash && rs.endsWith(`-${hash}`) ? rs.slice(0, -hash.length - 1) : rs;
}

/** What losing the only replica of a k3s cluster service costs. */
const CLUSTER_SERVICE_COST: Record<string, string> = {
  coredns: 'DNS for every pod (the app cannot resolve myhero-data or myhero-mosca)',
  traefik: 'the ingress: every request through it fails',
  'metrics-server': 'resource metrics: HPAs stop scaling',
  'local-path-provisioner': 'new persistent volumes',
};

/**
 * Cluster services (kube-system workloads) whose only running replica is on `node`:
 * losing the node takes them down until they are rescheduled, which a Pi cluster
 * notices everywhere (k3s runs coredns, traefik and metrics-server as one replica each).
 */
export async function singleReplicaServicesOn(cx: ChaosContext, node: string): Promise<string[]> {
  const pods = (await cx.kube.listPods('kube-system')).filter((p) => !podTerminating(p) && !p.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet'));
  const ownerOf = (p: V1Pod) => deploymentOfPod(p) ?? p.metadata?.ownerReferences?.[0]?.name ?? p.metadata?.name ?? '?';
  const groups = new Map<string, V1Pod[]>();
  for (const p of pods) groups.set(ownerOf(p), [...(groups.get(ownerOf(p)) ?? []), p]);
  return [...groups.entries()]
    .filter(([, ps]) => ps.every((p) => p.spec?.nodeName === node))
    .map(([name]) => `node ${node} runs the only replica of kube-system/${name}${CLUSTER_SERVICE_COST[name] ? `: losing it stops ${CLUSTER_SERVICE_COST[name]}` : ''} until it is rescheduled elsewhere`);
}

async function warnClusterServices(cx: ChaosContext, node: string): Promise<void> {
  const warnings = await singleReplicaServicesOn(cx, node).catch((err: unknown) => [`could not check the cluster services on node ${node}: ${describeError(err)}`]);
  for (const w of warnings) {
    cx.say(`warning: ${w}`);
    cx.journal.action({ name: 'preflight-warning', detail: w, ok: true, dryRun: cx.dryRun });
  }
}

interface KillState {
  node: string;
  /** Pods of the namespace on the node, and the Deployments they belong to. */
  onNode: string[];
  affected: string[];
}

export const nodeKill = defineStep({
  kind: 'node-kill',
  schema: mapping({
    node: objectName.meta({ description: 'a node name, or random (a Ready worker that is not the last one)' }),
    exec: text.meta({ description: 'shell command that stops the node; {node} is replaced by its name' }),
    restore: text.meta({ description: 'shell command that brings the node back (the rollback)' }),
    selector: labelSelector.optional(),
    notReadyTimeout: duration(1).optional(),
    recoverTimeout: duration(1).optional(),
    hookTimeout: duration(1).optional(),
  })
    .meta({ id: 'node-kill' })
    .transform(
      (b): NodeKillSpec => ({
        node: b.node,
        exec: b.exec,
        restore: b.restore,
        selector: b.selector ?? D.nodeKillSelector,
        notReadyTimeoutMs: b.notReadyTimeout ?? D.nodeNotReadyTimeoutMs,
        recoverTimeoutMs: b.recoverTimeout ?? D.nodeRecoverTimeoutMs,
        hookTimeoutMs: b.hookTimeout ?? D.hookTimeoutMs,
      }),
    ),
  describe: (s) => `stop node ${s.node} with \`${redactCommand(s.exec)}\`, measure recovery, restore with \`${redactCommand(s.restore)}\``,
  limitMs: (s) => s.hookTimeoutMs + s.notReadyTimeoutMs + 2 * s.recoverTimeoutMs + STEP_LIMIT_SLACK_MS,
  async prepare(cx, s): Promise<KillState> {
    const node = await resolveNode(cx, s.node);
    const pods = (await cx.kube.listPods(cx.namespace, { fieldSelector: `spec.nodeName=${node}` })).filter((p) => !podTerminating(p));
    const affected = [...new Set(pods.map(deploymentOfPod).filter((d): d is string => !!d))];
    await warnClusterServices(cx, node);
    return { node, onNode: pods.map((p) => p.metadata!.name!), affected };
  },
  dryRun(cx, s, { node, onNode, affected }) {
    cx.say(`would run: ${redactCommand(s.exec.replaceAll('{node}', node))}`);
    cx.say(`would wait for node ${node} NotReady, then for ${onNode.length} pod(s) (${affected.join(', ') || 'none'}) Ready elsewhere`);
    cx.say(`would run on rollback: ${redactCommand(s.restore.replaceAll('{node}', node))}`);
    cx.journal.action({ name: 'node-kill', detail: `node ${node}`, ok: true, dryRun: true });
  },
  rollbacks: (cx, s, { node }) => [
    {
      name: `restore node ${node}`,
      command: redactCommand(s.restore.replaceAll('{node}', node)),
      undo: async (signal) => {
        const r = await runHook(s.restore, node, { timeoutMs: s.hookTimeoutMs, signal });
        if (r.code !== 0) throw new Error(`restore hook exited ${r.code}: ${redactCommand(r.output.split('\n').pop() ?? '')}`);
        const back = await waitUntil(() => cx.kube.getNode(node), nodeReady, { timeoutMs: s.recoverTimeoutMs, pollMs: cx.pollMs, signal });
        if (!back.ok) throw new Error(`node ${node} not Ready ${seconds(back.elapsedMs)} after the restore hook`);
      },
    },
  ],
  async run(cx, s, { node, affected }) {
    await measureNodeLoss(cx, s, node, affected);
  },
});

/** Run the kill hook and measure the three times from its start. */
async function measureNodeLoss(cx: ChaosContext, s: NodeKillSpec, node: string, affected: string[]): Promise<void> {
  const start = Date.now();
  const hook = await runHook(s.exec, node, { timeoutMs: s.hookTimeoutMs, signal: cx.signal });
  cx.journal.action({
    name: 'node-kill',
    detail: `node ${node}: hook exited ${hook.code} after ${seconds(hook.ms)}`,
    ok: hook.code === 0,
    error: hook.code === 0 ? undefined : redactCommand(hook.output.split('\n').pop() ?? ''),
  });
  // A hook that failed injected nothing certain: the run cannot be judged.
  if (hook.code !== 0) throw new UserError(`node-kill hook for ${node} exited ${hook.code}: ${redactCommand(hook.output.split('\n').pop() ?? '')}`, EXIT.unjudged);

  const poll = { pollMs: cx.pollMs, signal: cx.signal };
  const down = await waitUntil(() => cx.kube.getNode(node), (n) => !nodeReady(n), { ...poll, timeoutMs: s.notReadyTimeoutMs });
  if (!down.ok) throw new UserError(`node ${node} still Ready ${seconds(down.elapsedMs)} after the hook: did it really stop the kubelet?`, EXIT.unjudged);
  const notReadyMs = Date.now() - start;
  cx.journal.measure('nodeNotReadyMs', notReadyMs);
  cx.journal.action({ name: 'node-not-ready', detail: `node ${node} NotReady after ${seconds(notReadyMs)}`, ok: true });

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
    throw new UserError(`pods of node ${node} not Ready elsewhere within ${seconds(s.recoverTimeoutMs)}: ${missing.join(', ')}`, EXIT.failed);
  }
  const podsRescheduledMs = Date.now() - start;
  cx.journal.measure('podsRescheduledMs', podsRescheduledMs);
  cx.journal.action({ name: 'pods-rescheduled', detail: `${affected.join(', ') || 'no workloads'} Ready elsewhere after ${seconds(podsRescheduledMs)}`, ok: true });

  // Whole: every selected Deployment available at full size.
  const whole = await waitUntil(
    () => cx.kube.listDeployments(cx.namespace, s.selector),
    (ds) => ds.every((d) => (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1)),
    { ...poll, timeoutMs: s.recoverTimeoutMs },
  );
  if (!whole.ok) {
    const short = whole.value.filter((d) => (d.status?.availableReplicas ?? 0) < (d.spec?.replicas ?? 1)).map((d) => d.metadata?.name);
    throw new UserError(`service not whole within ${seconds(s.recoverTimeoutMs)}: ${short.join(', ')} short of replicas`, EXIT.failed);
  }
  const serviceWholeMs = Date.now() - start;
  cx.journal.measure('serviceWholeMs', serviceWholeMs);
  cx.journal.action({ name: 'service-whole', detail: `every ${s.selector} deployment available after ${seconds(serviceWholeMs)}`, ok: true });
}
