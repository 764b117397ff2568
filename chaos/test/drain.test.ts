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
  method: [{ kind: 'node-drain', spec: { node, evictionTimeoutMs, retryMs: 20 } }],
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
    const onNode = (await c.kube.listPods('default', { fieldSelector: 'spec.nodeName=pi-1' })).map((p) => p.metadata!.name!);
    const j = await run(c, drainPlan('pi-1', 10_000));
    expect(j.status).toBe('completed');
    const evictions = c.api.requests.filter((r) => r.resource === 'pods/eviction');
    // maxUnavailable 1 over 2 app replicas: the second app pod waits for the first one's replacement.
    expect(evictions.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(j.measurements.evictionRefusals).toBeGreaterThan(0);
    expect(j.actions.some((a) => a.name === 'evict-refused' && /disruption budget myhero-app needs 1 healthy pods/.test(a.detail))).toBe(true);
    // Every pod that ran on pi-1 was evicted (a replacement may land there again once the rollback uncordons it).
    const after = new Map((await c.kube.listPods('default')).map((p) => [p.metadata!.name!, p]));
    expect(onNode.length).toBeGreaterThan(5);
    expect(onNode.filter((n) => after.has(n) && !after.get(n)!.metadata?.deletionTimestamp)).toEqual([]);
    expect(j.measurements.evicted).toBe(onNode.length);
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
    expect(j.verdicts.find((v) => v.name === 'run')).toMatchObject({ outcome: 'fail' });
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-1', ok: true })]);
    expect((await c.kube.getNode('pi-1')).spec?.unschedulable).toBeFalsy();
  });

  it('an eviction answered 404 (the pod is already gone) counts as evicted, as kubectl drain counts it', async () => {
    c = await crowdedNode();
    let raced: string | undefined;
    // Someone else deletes the data pod between the drain's list and its eviction.
    c.api.inject(({ method, path }) => {
      if (method === 'POST' && path.endsWith('/eviction') && path.includes('myhero-data') && !raced) {
        raced = path.split('/').at(-2)!;
        c.api.cluster.deletePod('default', raced, 0);
      }
      return undefined;
    });
    const j = await run(c, drainPlan('pi-1', 10_000));
    expect(raced).toBeDefined();
    expect(c.api.requests.filter((r) => r.resource === 'pods/eviction' && r.status === 404)).toHaveLength(1);
    expect(j.status, j.error).toBe('completed');
    expect(j.actions.find((a) => a.detail.includes(raced!))?.detail).toBe(`pod default/${raced} already gone (404)`);
    expect(j.exitCode).toBe(0);
  });

  it('when one eviction fails, the other eviction loops stop before the rollback uncordons the node', async () => {
    // The app's budget never allows an eviction: its loop would retry for the whole 10 s.
    c = await crowdedNode((o) => (o.kind === 'PodDisruptionBudget' && o.metadata.name === 'myhero-app' ? { ...o, spec: { minAvailable: 2, selector: o.spec.selector } } : o));
    c.api.inject(({ method, path }) =>
      method === 'POST' && path.endsWith('/eviction') && path.includes('myhero-data')
        ? { status: 500, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', message: 'etcdserver: request timed out', code: 500 } }
        : undefined,
    );
    const j = await run(c, drainPlan('pi-1', 10_000));
    await new Promise((r) => setTimeout(r, 200)); // a loop still running would send another eviction meanwhile
    expect(j.status).toBe('failed');
    expect(j.error).toBe('Kubernetes API 500 on create pods/eviction in namespace "default": etcdserver: request timed out');
    expect(j.exitCode).toBe(3);
    expect(j.durationMs).toBeLessThan(5000);
    const uncordon = c.api.requests.findLastIndex((r) => r.resource === 'nodes' && r.verb === 'patch');
    expect(c.api.requests.slice(uncordon + 1).filter((r) => r.resource === 'pods/eviction')).toEqual([]);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-1', ok: true, command: 'kubectl --kubeconfig ' + c.kubeconfig + ' --context stand-in uncordon pi-1' })]);
  });
});
