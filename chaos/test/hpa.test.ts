import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGameday } from '../experiment.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const FILE = join(ROOT, 'chaos/experiments/hpa.yaml');
// Simulated cluster: 10 ms per cluster second (HPA sync 15 s = 150 ms, the 300 s window = 3 s);
// each vote per second costs the app 10 millicores, so 60 votes/s is 600m over requests of 100m per pod.
const CLUSTER = { msPerSecond: 10, cpuPerRequestPerSecond: 10 };
const vars = (c: TestCluster) => ({
  MYHERO_APP_URL: c.service.url,
  LOAD_RATE: '60',
  TARGET_REPLICAS: '4',
  SCALE_UP_WITHIN: '15s',
  HOLD: '0.5s',
  METRIC_WITHIN: '5s',
  SCALE_DOWN_WITHIN: '15s',
});

describe('HPA verdict (chaos/experiments/hpa.yaml)', () => {
  it('passes on the hardened stand-in: scales to the target under load, within budget, and back after the window', async () => {
    c = await startCluster({ objects: manifests(true), api: CLUSTER });
    await settle(c, { hpa: 'myhero-app' });
    const j = await run(c, loadGameday(FILE, { namespace: 'default', vars: vars(c) }), { timeoutMs: 60_000 });
    const byName = Object.fromEntries(j.verdicts.map((v) => [v.name, v]));
    expect(j.status, j.error).toBe('completed');
    expect(j.verdicts.filter((v) => !v.pass)).toEqual([]);
    expect(byName['scales to the target under load']?.reason).toMatch(/^hpa myhero-app: [4-6] replicas/);
    expect(byName['serves the load with errors within budget']?.reason).toMatch(/^0 of \d+ votes failed \(0\.00%, budget <= 0\.01\)/);
    expect(byName['hpa myhero-app returns toward its minimum']?.reason).toMatch(/^scaled from [4-6] to [2-5] .* \(stabilisation window 300 s, minimum 2\)$/);
    expect(j.measurements.hpaStabilizationWindowS).toBe(300);
    // The scale-down waited for the (scaled) window: at least 300 cluster seconds after the load stopped.
    expect(j.measurements.hpaScaleDownMs).toBeGreaterThanOrEqual(300 * 10 * 0.9);
    const hpaSeries = j.samples.map((s) => s.hpaReplicas ?? 0);
    expect(Math.max(...hpaSeries)).toBeGreaterThanOrEqual(4);
    expect(j.events.filter((e) => e.reason === 'SuccessfulRescale').length).toBeGreaterThanOrEqual(2);
  }, 90_000);

  it('fails before any chaos when the app has no CPU requests, naming the HPA condition', async () => {
    const noRequests = manifests(true, (o) => {
      if (o.kind !== 'Deployment' || o.metadata.name !== 'myhero-app') return o;
      const d = structuredClone(o);
      d.spec.template.spec.containers[0].resources = {};
      return d;
    });
    c = await startCluster({ objects: noRequests, api: CLUSTER });
    await settle(c);
    await new Promise((r) => setTimeout(r, 300)); // two HPA syncs
    const j = await run(c, loadGameday(FILE, { namespace: 'default', vars: vars(c) }));
    expect(j.status).toBe('aborted');
    expect(j.error).toBe('steady state not met before the method: no chaos injected');
    const failed = j.verdicts.filter((v) => !v.pass);
    expect(failed.map((v) => v.name)).toEqual(['steady state before the method: the HPA can compute CPU utilisation', 'run', 'likely cause']);
    expect(failed[0]!.reason).toMatch(/ScalingActive=False \(FailedGetResourceMetric\): .*missing request for cpu in container myhero-app of Pod myhero-app-/);
    expect(failed[2]!.reason).toContain('deployment/myhero-app: container myhero-app has no CPU request: HPA myhero-app cannot compute utilisation and will never scale');
    expect(j.actions).toEqual([]);
  }, 60_000);
});
