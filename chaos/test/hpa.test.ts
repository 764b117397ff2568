import { afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../plan.ts';
import { eventually, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

// The HPA's "after the load" verdicts on the stand-in, driven by a CPU demand the test
// sets (no load needed): CPU below target is judged; the scale-down is judged only when
// the step waits for it, and otherwise reported as not observed, never as passed.

let c: TestCluster;
afterEach(() => c?.stop());

// 10 ms per cluster second: HPA sync 15 s = 150 ms, the 300 s stabilisation window = 3 s.
const scaleDown = (withinMs?: number, metricWithinMs = 2000): Plan => ({
  title: 'hpa scale-down',
  command: 'gameday',
  namespace: 'default',
  observe: {},
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [{ kind: 'hpa-scale-down', spec: { hpa: 'myhero-app', metricWithinMs, withinMs } }],
  probes: [],
});

const outcomes = (j: Awaited<ReturnType<typeof run>>) => j.verdicts.map((v) => `${v.outcome}: ${v.name}: ${v.reason}`);

async function scaledUp(): Promise<TestCluster> {
  const cl = await startCluster({ objects: manifests(true), api: { msPerSecond: 10 } });
  await settle(cl, { hpa: 'myhero-app' });
  cl.api.cluster.setCpuDemand('default', 'myhero-app', 1000); // 500m per pod of 2, over requests of 100m
  await eventually(async () => ((await cl.kube.getHpa('default', 'myhero-app')).status?.currentReplicas ?? 0) >= 4, 10_000, 'the HPA to scale up');
  return cl;
}

describe('hpa-scale-down after the load', () => {
  it('fails CPU below target while the demand stays, and then does not call the scale-down anything but not observed', async () => {
    c = await scaledUp();
    const high = await run(c, scaleDown(undefined, 500));
    expect(outcomes(high)).toEqual([
      expect.stringMatching(/^fail: hpa myhero-app CPU below target after the load: CPU utilisation still \d+% \(target 60%\) [\d.]+ s after the load stopped$/),
      'not observed: hpa myhero-app scales down after its stabilisation window: not waited for: CPU never fell below target, so no scale-down is due',
    ]);
    expect(high.exitCode).toBe(1);
  });

  it('reports the scale-down as not observed (with when it is due) unless waited for, and fails it when waited too briefly', async () => {
    c = await scaledUp();
    c.api.cluster.setCpuDemand('default', 'myhero-app', 0);
    const peak = (await c.kube.getHpa('default', 'myhero-app')).status?.currentReplicas;
    const reported = await run(c, scaleDown());
    expect(outcomes(reported)).toEqual([
      expect.stringMatching(/^pass: hpa myhero-app CPU below target after the load: CPU fell to 0% \(target 60%\)/),
      expect.stringMatching(new RegExp(`^not observed: hpa myhero-app scales down after its stabilisation window: not waited for: a scale-down from ${peak} is due after the 300 s stabilisation window, around \\d{4}-`)),
    ]);
    expect(reported.exitCode).toBe(0);
    // Waited for 1 s (100 cluster seconds), shorter than the 300 s window: the scale-down cannot have come.
    const waited = await run(c, scaleDown(1000));
    expect(outcomes(waited)[1]).toMatch(new RegExp(`^fail: hpa myhero-app scales down after its stabilisation window: still ${peak} replicas [\\d.]+ s after the load stopped \\(stabilisation window 300 s\\)$`));
    expect(waited.exitCode).toBe(1);
  });

  it('at its minimum there is no scale-down to observe', async () => {
    c = await startCluster({ objects: manifests(true), api: { msPerSecond: 10 } });
    await settle(c, { hpa: 'myhero-app' });
    const j = await run(c, scaleDown(1000));
    expect(outcomes(j)[1]).toBe('not observed: hpa myhero-app scales down after its stabilisation window: no scale-down to observe: 2 replica(s), at its minimum (2)');
    expect(j.exitCode).toBe(0);
  });
});
