import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../plan.ts';
import { manifests, run, startCluster, type TestCluster } from './fixtures/cluster.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const drainPlan = (node: string, evictionTimeoutMs: number): Plan => ({
  title: 'drain',
  command: 'node-drain',
  namespace: 'default',
  observe: { deployment: 'myhero-app' },
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [{ kind: 'node-drain', spec: { node, evictionTimeoutMs, retryMs: 20 }, holdMs: 0 }],
  probes: [],
});

/** Everything on pi-1 first (the only node), then two more nodes join: a drain of pi-1 must move it all. */
async function crowdedNode(edit?: Parameters<typeof manifests>[1]): Promise<TestCluster> {
  const cl = await startCluster({ objects: manifests(true, edit), nodes: ['pi-1'] });
  await cl.kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10 });
  cl.api.cluster.addNode('pi-2');
  cl.api.cluster.addNode('pi-3');
  return cl;
}

describe('node-drain against the stand-in', () => {
  it('evicts through the Eviction API, retries 429s until the PDB allows, and uncordons on rollback', async () => {
    c = await crowdedNode();
    const j = await run(c, drainPlan('pi-1', 10_000));
    expect(j.status).toBe('completed');
    const evictions = c.api.requests.filter((r) => r.resource === 'pods/eviction');
    // maxUnavailable 1 over 2 app replicas: the second app pod waits for the first one's replacement.
    expect(evictions.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(j.measurements.evictionRefusals).toBeGreaterThan(0);
    expect(j.actions.some((a) => a.name === 'evict-refused' && /disruption budget myhero-app needs 1 healthy pods/.test(a.detail))).toBe(true);
    const appPods = await c.kube.listPods('default', { labelSelector: 'tier=app' });
    expect(appPods.filter((p) => !p.metadata?.deletionTimestamp).every((p) => p.spec?.nodeName !== 'pi-1')).toBe(true);
    // No plain DELETE of pods: a drain goes through evictions only.
    expect(c.api.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-1', ok: true })]);
    expect((await c.kube.getNode('pi-1')).spec?.unschedulable).toBeFalsy();
    const cordons = c.api.requests.filter((r) => r.resource === 'nodes' && r.verb === 'patch');
    expect(cordons).toHaveLength(2);
  });

  it('a PDB that never allows a disruption fails the drain after the timeout, and the node is still uncordoned', async () => {
    // minAvailable 2 of 2 replicas: a budget that never allows a disruption (preflight flags it).
    c = await crowdedNode((o) =>
      o.kind !== 'PodDisruptionBudget' ? o : o.metadata.name === 'myhero-app' ? { ...o, spec: { minAvailable: 2, selector: o.spec.selector } } : { ...o, spec: { maxUnavailable: 2, selector: o.spec.selector } },
    );
    const j = await run(c, drainPlan('pi-1', 300));
    expect(j.status).toBe('failed');
    expect(j.error).toMatch(/^eviction of pod myhero-app-\S+ still refused after 0\.30 s: The disruption budget myhero-app needs 2 healthy pods and has 2 currently$/);
    expect(j.verdicts.find((v) => v.name === 'run')).toMatchObject({ pass: false });
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-1', ok: true })]);
    expect((await c.kube.getNode('pi-1')).spec?.unschedulable).toBeFalsy();
  });
});
