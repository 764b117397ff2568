import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../plan.ts';
import { cleanupLeftovers } from '../cleanup.ts';
import { readInventory } from '../preflight.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';
import { kustomizeBuild, type KubeObject } from '../../test/fixtures/kube-apiserver/index.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const SA = 'system:serviceaccount:default:myhero-chaos';
const hook = (c: TestCluster, action: string) => `node ${join(ROOT, 'test/fixtures/kube-apiserver/node-hook.mjs')} ${c.api.url} ${action} {node}`;

/** Every call a game day makes, in one plan: kills, probe removal, restart, drain, node loss, HPA and readiness probes. */
const everything = (c: TestCluster): Plan => ({
  title: 'all calls',
  command: 'gameday',
  namespace: 'default',
  observe: { deployment: 'myhero-app', hpa: 'myhero-app' },
  steadyState: [
    { name: 'ready', kubernetes: { deployment: 'myhero-app', readyReplicas: '>= 1' } },
    { name: 'hpa active', kubernetes: { hpa: 'myhero-app', scalingActive: true } },
  ],
  steadyStateRecoveryMs: 10_000,
  method: [
    { kind: 'pod-kill', spec: { selector: 'tier=app', radius: { count: 1 }, graceSeconds: 0, recoverWithinMs: 10_000 } },
    { kind: 'remove-readiness-probe', spec: { deployment: 'myhero-app' } },
    { kind: 'rollout-restart', spec: { deployment: 'myhero-app', withinMs: 10_000 } },
    { kind: 'node-drain', spec: { node: 'pi-3', evictionTimeoutMs: 10_000, retryMs: 20 } },
    { kind: 'node-kill', spec: { node: 'pi-2', exec: hook(c, 'stop'), restore: hook(c, 'start'), selector: 'app=myhero', notReadyTimeoutMs: 10_000, recoverTimeoutMs: 20_000, hookTimeoutMs: 10_000 } },
    // A fault into the team's VirtualService (patched, restored) and into one made for the UI (created, deleted).
    ...['myhero-app', 'myhero-ui'].map((service) => ({
      kind: 'http-fault' as const,
      spec: { service, fault: { abort: 500, percent: 100 }, durationMs: 200, settleMs: 50, recoveryMs: 1000, ratePerSec: 5, precision: 0.1 },
    })),
  ],
  probes: [{ name: 'hpa replicas', kubernetes: { hpa: 'myhero-app', replicas: '>= 2' } }],
});

async function asServiceAccount(edit: (o: KubeObject) => KubeObject = (o) => o): Promise<TestCluster> {
  const cl = await startCluster({ objects: manifests(true), api: { msPerSecond: 5, tokens: { 'sa-token': SA } }, token: 'sa-token', istio: true });
  for (const o of kustomizeBuild(join(ROOT, 'chaos/rbac'))) cl.api.cluster.apply(edit(o));
  cl.api.cluster.apply({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'myhero-app', namespace: 'default' },
    spec: { hosts: ['myhero-app'], http: [{ route: [{ destination: { host: 'myhero-app' } }] }] },
  });
  await settle(cl, { hpa: 'myhero-app' });
  return cl;
}

describe('chaos/rbac grants exactly the calls the commands make', () => {
  it('every command works as the service account, and every granted verb is used', async () => {
    c = await asServiceAccount();
    await c.kube.getNamespace('default'); // the CLI's --namespace check
    await readInventory(c.kube, 'default', 'app=myhero'); // preflight
    await cleanupLeftovers(c.kube, 'default', { dryRun: false }); // chaos cleanup
    const j = await run(c, everything(c), { timeoutMs: 60_000 });
    expect(j.status, j.error).toBe('completed');
    expect(c.api.requests.filter((r) => r.status === 403)).toEqual([]);

    const used = new Set(c.api.requests.filter((r) => r.verb).map((r) => `${r.group}/${r.resource}:${r.verb}`));
    const granted = new Set(
      kustomizeBuild(join(ROOT, 'chaos/rbac'))
        .filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole')
        .flatMap((o) => (o.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))))),
    );
    expect([...used].sort()).toEqual([...granted].sort());
  }, 90_000);

  it('a missing verb fails the run with one line naming it, and the rollbacks that can run do', async () => {
    c = await asServiceAccount((o) =>
      o.kind === 'Role' ? { ...o, rules: o.rules.map((r: { resources: string[]; verbs: string[] }) => (r.resources.includes('pods') ? { ...r, verbs: ['list'] } : r)) } : o,
    );
    const j = await run(c, {
      title: 'kill without delete',
      command: 'pod-kill',
      namespace: 'default',
      observe: {},
      steadyState: [],
      steadyStateRecoveryMs: 0,
      method: [{ kind: 'pod-kill', spec: { selector: 'tier=app', radius: { count: 1 } } }],
      probes: [],
    });
    expect(j.status).toBe('failed');
    expect(j.error).toBe('forbidden: cannot delete pods in namespace "default" (see chaos/rbac/)');
  }, 30_000);
});
