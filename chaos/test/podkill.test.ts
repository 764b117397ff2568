import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../plan.ts';
import { manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const killPlan = (spec: Extract<Plan['method'][number], { kind: 'pod-kill' }>): Plan => ({
  title: 'pod-kill',
  command: 'pod-kill',
  namespace: 'default',
  observe: { deployment: 'myhero-app' },
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [spec],
  probes: [],
});

/** The overlay without its HPA (which would scale an idle app back to 2), myhero-app at `n` replicas. */
const withReplicas = (n: number) =>
  manifests(true, (o) => (o.kind === 'Deployment' && o.metadata.name === 'myhero-app' ? { ...o, spec: { ...o.spec, replicas: n } } : o)).filter(
    (o) => o.kind !== 'HorizontalPodAutoscaler',
  );

const deletes = (c: TestCluster) => c.api.requests.filter((r) => r.method === 'DELETE' && r.resource === 'pods');

describe('pod-kill against the stand-in', () => {
  it('kills exactly --count pods among the selector, never others, and measures recovery', async () => {
    c = await startCluster({ objects: withReplicas(4) });
    await settle(c);
    const appPods = new Set((await c.kube.listPods('default', { labelSelector: 'tier=app' })).map((p) => p.metadata!.name));
    const j = await run(c, killPlan({ kind: 'pod-kill', spec: { selector: 'tier=app', radius: { count: 3 }, graceSeconds: 0, recoverWithinMs: 10_000 } }));
    expect(j.status).toBe('completed');
    const killed = deletes(c).map((r) => r.path.split('/').pop()!);
    expect(killed).toHaveLength(3);
    expect(new Set(killed).size).toBe(3);
    expect(killed.every((n) => appPods.has(n))).toBe(true);
    expect(j.verdicts).toEqual([expect.objectContaining({ name: 'pods matching tier=app recover', outcome: 'pass' })]);
    expect(j.measurements.recoveryMs).toBeGreaterThan(0);
    // The replacements passed through the pod lifecycle: created, scheduled, started (events observed).
    expect(j.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['Killing', 'SuccessfulCreate', 'Scheduled', 'Started']));
  });

  it('--percent rounds down and repeated rounds kill once per interval', async () => {
    c = await startCluster({ objects: withReplicas(3) });
    await settle(c);
    const j = await run(c, killPlan({ kind: 'pod-kill', spec: { selector: 'app=myhero,tier=app', radius: { percent: 50 }, graceSeconds: 0, everyMs: 300, forMs: 1000 } }));
    expect(j.status).toBe('completed');
    // 50 % of 3 live pods is 1 per round; rounds at 0, 300, 600, 900 ms.
    expect(j.measurements.podKillRounds).toBe(4);
    expect(deletes(c)).toHaveLength(4);
    expect(j.actions.filter((a) => a.name === 'pod-kill')).toHaveLength(4);
  });

  it('a percent that selects nobody fails the run with the reason, killing nothing', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const j = await run(c, killPlan({ kind: 'pod-kill', spec: { selector: 'tier=app', radius: { percent: 10 } } }));
    expect(j.status).toBe('failed');
    expect(j.error).toBe('--percent 10 of 2 pods selects none (rounds down); raise it or use --count');
    expect(deletes(c)).toEqual([]);
  });
});
