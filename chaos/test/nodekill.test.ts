import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../plan.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const hook = (c: TestCluster, action: 'stop' | 'start') => `node ${join(ROOT, 'test/fixtures/kube-apiserver/node-hook.mjs')} ${c.api.url} ${action} {node}`;

const killPlan = (c: TestCluster, node: string, exec = hook(c, 'stop')): Plan => ({
  title: 'node-kill',
  command: 'node-kill',
  namespace: 'default',
  observe: { deployment: 'myhero-app' },
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [
    {
      kind: 'node-kill',
      spec: { node, exec, restore: hook(c, 'start'), selector: 'app=myhero', notReadyTimeoutMs: 10_000, recoverTimeoutMs: 20_000, hookTimeoutMs: 10_000 },
    },
  ],
  probes: [],
});

describe('node-kill against the stand-in', () => {
  it('measures time to NotReady, to pods Ready elsewhere and to service whole, then restores the node', async () => {
    // 10 ms per cluster second: node-monitor grace 40 s = 0.4 s, unreachable toleration 300 s = 3 s.
    c = await startCluster({ objects: manifests(true), api: { msPerSecond: 10 } });
    await settle(c);
    const victim = (await c.kube.listPods('default', { labelSelector: 'tier=app' }))[0]!.spec!.nodeName!;
    const j = await run(c, killPlan(c, victim), { timeoutMs: 40_000 });
    expect(j.status, j.error).toBe('completed');
    const { nodeNotReadyMs, podsRescheduledMs, serviceWholeMs } = j.measurements as Record<string, number>;
    // Kubernetes only notices after the node-monitor grace period; pods move after the unreachable toleration.
    expect(nodeNotReadyMs).toBeGreaterThanOrEqual(40 * 10);
    expect(podsRescheduledMs).toBeGreaterThanOrEqual(nodeNotReadyMs! + 300 * 10 * 0.9);
    expect(serviceWholeMs).toBeGreaterThanOrEqual(podsRescheduledMs!);
    expect(j.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['NodeNotReady', 'TaintManagerEviction']));
    expect(j.actions.map((a) => a.name)).toEqual(['node-kill', 'node-not-ready', 'pods-rescheduled', 'service-whole']);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: `restore node ${victim}`, ok: true })]);
    const node = await c.kube.getNode(victim);
    expect(node.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
  }, 60_000);

  it('a failing hook fails the run and the restore hook still runs', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const j = await run(c, killPlan(c, 'pi-2', 'echo "ssh: connect to host {node}: No route to host" >&2; exit 255'));
    expect(j.status).toBe('failed');
    expect(j.error).toBe('node-kill hook for pi-2 exited 255: ssh: connect to host pi-2: No route to host');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore node pi-2', ok: true })]);
  });
});
