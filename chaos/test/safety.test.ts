import { afterEach, describe, expect, it } from 'vitest';
import type { V1Node, V1Pod } from '../../lib/kube.ts';
import { checkNamespace } from '../../lib/kube-safety.ts';
import { checkNodeVictim, pickRandom, pickVictimNode, pickVictimPods, victimCount } from '../safety.ts';
import type { Plan } from '../plan.ts';
import { manifests, run, startCluster, writes, type TestCluster } from './fixtures/cluster.ts';
import { runCli } from '../../test/fixtures/cli.ts';

const pods = (n: number, terminating = 0): V1Pod[] =>
  Array.from({ length: n + terminating }, (_, i) => ({
    metadata: { name: `p${i}`, ...(i >= n ? { deletionTimestamp: new Date() } : {}) },
  }));
const node = (name: string, ready = true, extra: Partial<V1Node['metadata']> = {}): V1Node => ({
  metadata: { name, ...extra },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

describe('safety rails', () => {
  it('requires a namespace, refuses system namespaces unless allowed by their own override, and enforces the allowlist', () => {
    const allowed = ['default', 'myhero'];
    const rules = { allowed, allowSystem: false };
    expect(() => checkNamespace('', rules)).toThrow('--namespace is required');
    expect(() => checkNamespace('kube-system', rules)).toThrow('refusing to act in system namespace "kube-system" (pass --allow-system-namespaces and add it to --allow-namespaces');
    expect(() => checkNamespace('kube-node-lease', rules)).toThrow(/system namespace/);
    expect(() => checkNamespace('monitoring', rules)).toThrow(/system namespace/);
    // Each override lifts one rail: a system namespace also has to be on the allowlist.
    expect(() => checkNamespace('kube-system', { allowed, allowSystem: true })).toThrow('namespace "kube-system" is not in the allowlist (default, myhero)');
    expect(checkNamespace('kube-system', { allowed: [...allowed, 'kube-system'], allowSystem: true })).toBe('kube-system');
    expect(() => checkNamespace('prod', { allowed, allowSystem: true })).toThrow('namespace "prod" is not in the allowlist (default, myhero); add it with --allow-namespaces');
    expect(() => checkNamespace('Bad_NS', rules)).toThrow('invalid --namespace');
    expect(checkNamespace('myhero', rules)).toBe('myhero');
  });

  it('never picks more pods than the count or the percent allows, and only live ones', () => {
    expect(victimCount({ count: 2 }, 5)).toBe(2);
    expect(victimCount({ count: 9 }, 3)).toBe(3);
    expect(victimCount({ percent: 50 }, 5)).toBe(2); // rounds down
    expect(victimCount({ percent: 100 }, 4)).toBe(4);
    for (let seed = 0; seed < 50; seed++) {
      const r = () => (seed * 0.0191) % 1;
      const v = pickVictimPods(pods(4, 2), { count: 3 }, 'tier=app', r);
      expect(v).toHaveLength(3);
      expect(new Set(v.map((p) => p.metadata?.name)).size).toBe(3);
      expect(v.every((p) => !p.metadata?.deletionTimestamp)).toBe(true);
    }
    expect(() => pickVictimPods(pods(3), { percent: 10 }, 'tier=app')).toThrow('--percent 10 of 3 pods selects none (rounds down); raise it or use --count');
    // A fraction never widens the blast radius: 1.5 pods is one pod, and pickRandom refuses fractions outright.
    for (let seed = 0; seed < 20; seed++) expect(pickVictimPods(pods(2), { count: 1.5 }, 'tier=app', () => (seed * 0.037) % 1)).toHaveLength(1);
    expect(() => pickRandom(['a', 'b'], 1.5)).toThrow(RangeError);
    expect(() => pickVictimPods(pods(0, 2), { count: 1 }, 'tier=app')).toThrow('no running pods match selector tier=app');
  });

  it('never takes down the last Ready node, nor a control-plane node without --allow-control-plane', () => {
    const nodes = [node('pi-1'), node('pi-2', false), node('master', true, { labels: { 'node-role.kubernetes.io/control-plane': 'true' } })];
    const no = { allowControlPlane: false };
    expect(() => checkNodeVictim([node('pi-1'), node('pi-2', false)], 'pi-1', { allowControlPlane: true })).toThrow('refusing to take down node "pi-1": it is the last Ready schedulable node');
    expect(() => checkNodeVictim(nodes, 'master', no)).toThrow('refusing to take down control-plane node "master" (it serves the API this tool needs; pass --allow-control-plane)');
    expect(checkNodeVictim(nodes, 'master', { allowControlPlane: true }).metadata?.name).toBe('master');
    expect(checkNodeVictim(nodes, 'pi-1', no).metadata?.name).toBe('pi-1');
    expect(() => checkNodeVictim(nodes, 'pi-9', no)).toThrow('node "pi-9" does not exist');
    for (let i = 0; i < 20; i++) expect(pickVictimNode(nodes, no, () => i / 20).metadata?.name).toBe('pi-1');
    expect(() => pickVictimNode([node('pi-1'), node('pi-2', false)], no)).toThrow('no node can be taken down safely');
  });
});

describe('dry run and refusals against the stand-in', () => {
  let c: TestCluster;
  afterEach(() => c?.stop());

  const plan = (method: Plan['method']): Plan => ({ title: 'dry', command: 'test', namespace: 'default', observe: {}, steadyState: [], steadyStateRecoveryMs: 0, method, probes: [] });

  it('prints every action it would take and sends no write', async () => {
    c = await startCluster({ objects: manifests(true) });
    await c.kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10 });
    const before = c.api.requests.length;
    const j = await run(
      c,
      plan([
        { kind: 'pod-kill', spec: { selector: 'tier=app', radius: { count: 1 }, graceSeconds: 0, everyMs: 15_000, forMs: 120_000 } },
        { kind: 'node-drain', spec: { node: 'pi-1', evictionTimeoutMs: 1000, retryMs: 10 } },
        { kind: 'node-kill', spec: { node: 'pi-2', exec: 'false {node}', restore: 'false {node}', selector: 'app=myhero', notReadyTimeoutMs: 1, recoverTimeoutMs: 1, hookTimeoutMs: 1 } },
        { kind: 'rollout-restart', spec: { deployment: 'myhero-app', withinMs: 1000 } },
        { kind: 'remove-readiness-probe', spec: { deployment: 'myhero-app' } },
      ]),
      { dryRun: true },
    ).then((j) => ({ j }));
    expect(j.j.status).toBe('completed');
    expect(c.api.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(writes(c)).toEqual([]);
    const acts = j.j.actions.map((a) => `${a.name}${a.dryRun ? ' (dry)' : ''}`);
    expect(acts).toEqual(expect.arrayContaining(['pod-kill (dry)', 'cordon (dry)', 'node-kill (dry)', 'rollout-restart (dry)', 'remove-readiness-probe (dry)']));
    expect(j.j.actions.every((a) => a.dryRun)).toBe(true);
  });

  it('the CLI refuses a missing namespace with one line and exit 2, and dry-runs without a write', async () => {
    c = await startCluster({ objects: manifests(true) });
    const base = ['chaos', 'pod-kill', '--kubeconfig', c.kubeconfig, '--selector', 'tier=app', '--count', '1'];
    const [missing, dry] = await Promise.all([
      runCli([...base, '-n', 'myhero']),
      runCli([...base, '-n', 'default', '--dry-run', '--out', `${c.dir}/dry`]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toBe('myhero-ops: namespace "myhero": not found: namespaces "myhero" at cluster scope');
    expect(dry.code).toBe(0);
    // Which cluster is about to change comes first, before any action.
    expect(dry.stdout.split('\n')[0]).toBe(`Kubernetes: context "stand-in", server ${c.api.url}, namespace default`);
    expect(dry.stdout).toMatch(/would delete pod default\/myhero-app-[a-z0-9]+-[a-z0-9]{5}/);
    expect(dry.stdout).toContain('DRY RUN: nothing was changed');
    expect(writes(c)).toEqual([]);
  });
});
