import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Timing } from '../../test/fixtures/kube-apiserver/index.ts';
import { loadGameday } from '../experiment.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

// The two verdicts the tutorials ask for, on a healthy and on broken stand-ins.
// One file, so the two load-driven experiments never compete for the CPU with each other.

let c: TestCluster;
afterEach(() => c?.stop());

const HPA_FILE = join(ROOT, 'chaos/experiments/hpa.yaml');
// Simulated cluster: 10 ms per cluster second (HPA sync 15 s = 150 ms, the 300 s window = 3 s);
// each vote per second costs the app 10 millicores, so 50 votes/s is 500m over requests of 100m per pod.
const HPA_CLUSTER = { msPerSecond: 10, cpuPerRequestPerSecond: 10 };
const hpaVars = (c: TestCluster) => ({
  MYHERO_APP_URL: c.service.url,
  LOAD_RATE: '50',
  TARGET_REPLICAS: '4',
  SCALE_UP_WITHIN: '15s',
  HOLD: '3s',
  METRIC_WITHIN: '5s',
  SCALE_DOWN_WITHIN: '15s',
});

describe('HPA verdict (chaos/experiments/hpa.yaml)', () => {
  it('passes on the hardened stand-in: scales to the target under load, within budget, and back after the window', async () => {
    c = await startCluster({ objects: manifests(true), api: HPA_CLUSTER });
    await settle(c, { hpa: 'myhero-app' });
    const j = await run(c, loadGameday(HPA_FILE, { namespace: 'default', vars: hpaVars(c) }), { timeoutMs: 60_000 });
    const byName = Object.fromEntries(j.verdicts.map((v) => [v.name, v]));
    expect(j.status, j.error).toBe('completed');
    expect(j.verdicts.filter((v) => v.outcome !== 'pass')).toEqual([]);
    expect(j.exitCode).toBe(0);
    expect(byName['scales to the target under load']?.reason).toMatch(/^hpa myhero-app: [4-6] replicas/);
    expect(byName['serves the load with errors within budget']?.reason).toMatch(/^0 of \d+ votes failed \(0\.00%, budget <= 0\.01\)/);
    expect(byName['hpa myhero-app CPU below target after the load']?.reason).toMatch(/^CPU fell to \d+% \(target 60%\)/);
    expect(byName['hpa myhero-app scales down after its stabilisation window']?.reason).toMatch(/^scaled from [4-6] to [2-5] .* \(stabilisation window 300 s, minimum 2\)$/);
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
    c = await startCluster({ objects: noRequests, api: HPA_CLUSTER });
    await settle(c);
    await new Promise((r) => setTimeout(r, 300)); // two HPA syncs
    const j = await run(c, loadGameday(HPA_FILE, { namespace: 'default', vars: hpaVars(c) }));
    expect(j.status).toBe('aborted');
    expect(j.error).toBe('steady state not met before the method: no chaos injected');
    const failed = j.verdicts.filter((v) => v.outcome === 'fail');
    expect(failed.map((v) => v.name)).toEqual(['steady state before the method: the HPA can compute CPU utilisation', 'run', 'likely cause']);
    expect(j.exitCode).toBe(1);
    expect(failed[0]!.reason).toMatch(/ScalingActive=False \(FailedGetResourceMetric\): .*missing request for cpu in container myhero-app of Pod myhero-app-/);
    expect(failed[2]!.reason).toContain('deployment/myhero-app: container myhero-app has no CPU request: HPA myhero-app cannot compute utilisation and will never scale');
    expect(j.actions).toEqual([]);
  }, 60_000);
});

const READINESS_FILE = join(ROOT, 'chaos/experiments/readiness.yaml');
// 120 ms per cluster second: an app takes 4 s = 480 ms to answer after its container starts.
// The pauses leave the load a full second around each disruption, so a CPU-starved CI
// machine still sends votes while a pod is down.
const READINESS_CLUSTER = { msPerSecond: 120 };
const readinessVars = (c: TestCluster) => ({ MYHERO_APP_URL: c.service.url, LOAD_RATE: '50', SETTLE: '1s' });
// The Service keeps the load's connections open (keep-alive, as through an ingress) unless
// a test asks for the original myhero-app's `Connection: close`, where every vote opens a
// new connection that kube-proxy routes anew: that is where a pod that is Ready before its
// app answers (no readiness probe) costs votes.
const verdicts = async (objects: ReturnType<typeof manifests>, file = READINESS_FILE, opts: { timing?: Partial<Timing>; keepAlive?: boolean } = {}) => {
  c = await startCluster({ objects, api: { ...READINESS_CLUSTER, timing: opts.timing ?? {} }, keepAlive: opts.keepAlive });
  await settle(c);
  const j = await run(c, loadGameday(file, { namespace: 'default', vars: readinessVars(c) }), { timeoutMs: 60_000 });
  return { j, byName: Object.fromEntries(j.verdicts.map((v) => [v.name, v])) };
};

const editApp = (f: (d: ReturnType<typeof manifests>[number]) => void) =>
  manifests(true, (o) => {
    if (o.kind !== 'Deployment' || o.metadata.name !== 'myhero-app') return o;
    const d = structuredClone(o);
    f(d);
    return d;
  });

/** readiness.yaml with its pod kill forced (`grace: 0`), as a user might write it. */
function withGraceZero(): string {
  const text = readFileSync(READINESS_FILE, 'utf8');
  const forced = text.replace('count: 1, recoverWithin: 3m}', 'count: 1, grace: 0, recoverWithin: 3m}');
  expect(forced).not.toBe(text);
  const file = join(mkdtempSync(join(tmpdir(), 'readiness-')), 'readiness-grace-0.yaml');
  writeFileSync(file, forced);
  return file;
}

describe('readiness verdict (chaos/experiments/readiness.yaml)', () => {
  it('passes on the hardened stand-in: pods killed (own grace period, preStop) and rolled, no vote lost', async () => {
    const { j, byName } = await verdicts(manifests(true));
    expect(j.status, j.error).toBe('completed');
    expect(j.verdicts.filter((v) => v.outcome !== 'pass')).toEqual([]);
    expect(byName['failed votes within budget']?.reason).toMatch(/^0 of \d+ votes failed/);
    expect(byName['a Ready replica serves throughout']?.reason).toMatch(/^held at all \d+ checks/);
    expect(byName['rollout of myhero-app completes']?.outcome).toBe('pass');
    expect(j.measurements.votesAttempted).toBeGreaterThan(50);
    // The killed pods served through their preStop while the Service still routed to them.
    expect(c.service.servedBy.size).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('fails on the error budget without a readiness probe, and names the missing probe', async () => {
    const { j, byName } = await verdicts(
      editApp((d) => delete d.spec.template.spec.containers[0].readinessProbe),
      READINESS_FILE,
      { keepAlive: false },
    );
    expect(j.status).toBe('completed');
    const budget = byName['failed votes within budget']!;
    expect(budget.outcome).toBe('fail');
    expect(budget.reason).toMatch(/^\d+ of \d+ votes failed \(\d+\.\d+%, budget <= 0\.01\): /);
    expect(byName['likely cause']?.reason).toContain('container myhero-app has no readiness probe');
    expect(j.exitCode).toBe(1);
  }, 60_000);

  it('fails with grace: 0 on the hardened stand-in: votes in flight and routed before the endpoint is gone fail', async () => {
    const { j, byName } = await verdicts(manifests(true), withGraceZero());
    expect(j.status).toBe('completed');
    const budget = byName['failed votes within budget']!;
    expect(budget.outcome).toBe('fail');
    expect(budget.reason).toMatch(/^\d+ of \d+ votes failed \(\d+\.\d+%, budget <= 0\.01\): /);
    expect(j.exitCode).toBe(1);
  }, 60_000);

  it('fails with a single replica (the tutorial manifests): no Ready replica while it is replaced', async () => {
    const { j, byName } = await verdicts(manifests(false));
    const failed = j.verdicts.filter((v) => v.outcome === 'fail').map((v) => v.name);
    expect(failed).toEqual(expect.arrayContaining(['failed votes within budget', 'a Ready replica serves throughout', 'likely cause']));
    expect(byName['a Ready replica serves throughout']?.reason).toMatch(/^failed at [\d.]+ s: myhero-app: 0 of 1 replicas Ready \(want >= 1\)$/);
    expect(byName['likely cause']?.reason).toContain('runs 1 replica: killing one pod or losing its node takes the app tier down');
  }, 60_000);

  it('readiness-without-probe.yaml reproduces the tutorial failure and restores the probe afterwards', async () => {
    const { j, byName } = await verdicts(manifests(true), join(ROOT, 'chaos/experiments/readiness-without-probe.yaml'), { keepAlive: false });
    expect(byName['failed votes within budget']?.outcome).toBe('fail');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore the readiness probe of myhero-app', ok: true })]);
    const probe = (await c.kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.readinessProbe;
    expect(probe?.httpGet?.path).toBe('/health');
  }, 60_000);

  it('readiness-without-probe.yaml passes when the app answers the moment its container starts (its negative control)', async () => {
    const { j, byName } = await verdicts(manifests(true), join(ROOT, 'chaos/experiments/readiness-without-probe.yaml'), { timing: { appStart: 0 } });
    expect(byName['failed votes within budget']?.outcome, byName['failed votes within budget']?.reason).toBe('pass');
    expect(j.exitCode).toBe(0);
  }, 60_000);
});
