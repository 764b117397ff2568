import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGameday } from '../experiment.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const FILE = join(ROOT, 'chaos/experiments/readiness.yaml');
// 40 ms per cluster second: an app takes 4 s = 160 ms to answer after its container starts.
const CLUSTER = { msPerSecond: 40 };
const vars = (c: TestCluster) => ({ MYHERO_APP_URL: c.service.url, LOAD_RATE: '100', SETTLE: '0.4s' });

const verdicts = async (objects: ReturnType<typeof manifests>, file = FILE) => {
  c = await startCluster({ objects, api: CLUSTER });
  await settle(c);
  const j = await run(c, loadGameday(file, { namespace: 'default', vars: vars(c) }), { timeoutMs: 60_000 });
  return { j, byName: Object.fromEntries(j.verdicts.map((v) => [v.name, v])) };
};

const editApp = (f: (d: ReturnType<typeof manifests>[number]) => void) =>
  manifests(true, (o) => {
    if (o.kind !== 'Deployment' || o.metadata.name !== 'myhero-app') return o;
    const d = structuredClone(o);
    f(d);
    return d;
  });

describe('readiness verdict (chaos/experiments/readiness.yaml)', () => {
  it('passes on the hardened stand-in: pods killed and rolled, no vote lost to an unready pod', async () => {
    const { j, byName } = await verdicts(manifests(true));
    expect(j.status, j.error).toBe('completed');
    expect(j.verdicts.filter((v) => !v.pass)).toEqual([]);
    expect(byName['failed votes within budget']?.reason).toMatch(/^0 of \d+ votes failed/);
    expect(byName['a Ready replica serves throughout']?.reason).toMatch(/^held at all \d+ checks/);
    expect(byName['rollout of myhero-app completes']?.pass).toBe(true);
    expect(j.measurements.votesAttempted).toBeGreaterThan(100);
  }, 60_000);

  it('fails on the error budget without a readiness probe, and names the missing probe', async () => {
    const { j, byName } = await verdicts(editApp((d) => delete d.spec.template.spec.containers[0].readinessProbe));
    expect(j.status).toBe('completed');
    const budget = byName['failed votes within budget']!;
    expect(budget.pass).toBe(false);
    expect(budget.reason).toMatch(/^\d+ of \d+ votes failed \(\d+\.\d+%, budget <= 0\.01\): /);
    expect(byName['likely cause']?.reason).toContain('container myhero-app has no readiness probe');
  }, 60_000);

  it('fails with a single replica (the tutorial manifests): no Ready replica while it is replaced', async () => {
    const { j, byName } = await verdicts(manifests(false));
    const failed = j.verdicts.filter((v) => !v.pass).map((v) => v.name);
    expect(failed).toEqual(expect.arrayContaining(['failed votes within budget', 'a Ready replica serves throughout', 'likely cause']));
    expect(byName['a Ready replica serves throughout']?.reason).toMatch(/^failed at [\d.]+ s: myhero-app: 0 of 1 replicas Ready \(want >= 1\)$/);
    expect(byName['likely cause']?.reason).toContain('runs 1 replica: killing one pod or losing its node takes the app tier down');
  }, 60_000);

  it('readiness-without-probe.yaml reproduces the tutorial failure and restores the probe afterwards', async () => {
    const { j, byName } = await verdicts(manifests(true), join(ROOT, 'chaos/experiments/readiness-without-probe.yaml'));
    expect(byName['failed votes within budget']?.pass).toBe(false);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore the readiness probe of myhero-app', ok: true })]);
    const probe = (await c.kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.readinessProbe;
    expect(probe?.httpGet?.path).toBe('/health');
  }, 60_000);
});
