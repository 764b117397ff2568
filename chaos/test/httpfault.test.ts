import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { CustomObject } from '../../lib/kube.ts';
import { cleanupLeftovers } from '../cleanup.ts';
import type { JournalData } from '../journal.ts';
import { RUN_LABEL } from '../mesh.ts';
import type { Plan } from '../plan.ts';
import { checkInventory, readInventory } from '../preflight.ts';
import type { HttpFaultSpec } from '../steps/http-fault.ts';
import { eventually, manifests, run, settle, startCluster, writes, type TestCluster } from './fixtures/cluster.ts';
import { startCli } from '../../test/fixtures/cli.ts';

// http-fault against the stand-in with Istio: the VirtualService it creates or patches
// (the stand-in validates both against Istio's schema and webhook rules), what the
// rollback puts back, the refusals, the dry run, Ctrl-C, and `chaos cleanup`.

let c: TestCluster;
afterEach(() => c?.stop());

const VS = (version = 'v1') => ({ group: 'networking.istio.io', version, plural: 'virtualservices' });

const faultPlan = (spec: Partial<HttpFaultSpec>): Plan => ({
  title: 'http-fault',
  command: 'http-fault',
  namespace: 'default',
  observe: {},
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [{ kind: 'http-fault', spec: { service: 'myhero-app', fault: { abort: 500, percent: 100 }, durationMs: 1000, settleMs: 100, recoveryMs: 1000, ratePerSec: 5, precision: 0.1, ...spec } }],
  probes: [],
});

/** The team's own VirtualService: their gateway's route to myhero-app. */
const gatewayVs = (version = 'v1'): CustomObject => ({
  apiVersion: `networking.istio.io/${version}`,
  kind: 'VirtualService',
  metadata: { name: 'myhero', namespace: 'default', labels: { app: 'myhero' } },
  spec: {
    hosts: ['*'],
    gateways: ['myhero-gateway', 'mesh'],
    http: [{ match: [{ uri: { prefix: '/' } }], route: [{ destination: { host: 'myhero-app', port: { number: 80 } } }], timeout: '10s' }],
  },
});

async function meshCluster(opts: { versions?: string[]; vs?: CustomObject; inject?: boolean } = {}): Promise<TestCluster> {
  const cl = await startCluster({ objects: manifests(true), istio: opts.inject !== false, api: opts.versions ? { istio: { versions: opts.versions } } : undefined });
  if (opts.inject === false) cl.api.cluster.installIstio();
  await settle(cl);
  if (opts.vs) await cl.kube.createCustom(VS(opts.versions?.[0]), 'default', opts.vs);
  return cl;
}

const byName = (j: JournalData) => Object.fromEntries(j.verdicts.map((v) => [v.name, v]));

describe('http-fault against the stand-in', () => {
  it('creates a VirtualService when none routes the Service, measures the fault on its own requests, and deletes it', async () => {
    c = await meshCluster();
    // A pass at ±10 points needs about 46 requests in the judged window (the duration less two settles): at 70/s that
    // is 147 in 2.1 s. A starved machine (load average 9–13 on 2 cores) sent 30–44/s: a 1.2 s fault left 24–35 and
    // the verdict rightly 'not observed'.
    const j = await run(c, faultPlan({ url: `${c.service.url}/health`, ratePerSec: 70, durationMs: 2500, settleMs: 200, recoveryMs: 600 }));
    expect(j.status, j.error).toBe('completed');
    const v = byName(j);
    expect(v['http-fault on myhero-app: HTTP 500 abort on 100% of requests']).toMatchObject({ outcome: 'pass', reason: expect.stringMatching(/^(\d+) of \1 requests answered 500 \(100\.0%\)/) });
    expect(v['http-fault on myhero-app: gone after the rollback']).toMatchObject({ outcome: 'pass', reason: expect.stringMatching(/^0 of \d+ requests answered 500 \(0\.0%\) after the fault was removed; before the fault 0 of \d+/) });
    const created = c.api.requests.filter((r) => r.method === 'POST' && r.resource === 'virtualservices');
    expect(created).toEqual([expect.objectContaining({ status: 201, path: '/apis/networking.istio.io/v1/namespaces/default/virtualservices' })]);
    await expect(c.kube.getCustom(VS(), 'default', 'myhero-ops-fault-myhero-app')).rejects.toThrow('not found');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'delete VirtualService myhero-ops-fault-myhero-app', ok: true })]);
    expect(j.steps).toEqual([expect.objectContaining({ index: 1, kind: 'http-fault', status: 'succeeded' })]);
    expect(j.windows).toEqual([{ name: 'HTTP 500 abort on 100% of requests: myhero-app', from: expect.any(Number), to: expect.any(Number) }]);
    expect(j.windows[0]!.to! - j.windows[0]!.from).toBeGreaterThanOrEqual(1200);
    expect(c.service.stats.aborted).toBeGreaterThan(50);
  });

  it("patches the team's VirtualService in the version discovery prefers and restores its spec exactly; unmeasured verdicts are not observed", async () => {
    c = await meshCluster({ versions: ['v1beta1', 'v1alpha3'], vs: gatewayVs('v1beta1') });
    const before = await c.kube.getCustom(VS('v1beta1'), 'default', 'myhero');
    const j = await run(c, faultPlan({ fault: { delayMs: 5000, percent: 25 }, durationMs: 300 }));
    expect(j.status, j.error).toBe('completed');
    const patches = c.api.requests.filter((r) => r.method === 'PATCH' && r.resource === 'virtualservices');
    expect(patches.map((r) => `${r.path} ${r.status}`)).toEqual([
      '/apis/networking.istio.io/v1beta1/namespaces/default/virtualservices/myhero 200', // the fault
      '/apis/networking.istio.io/v1beta1/namespaces/default/virtualservices/myhero 200', // the restore
    ]);
    const after = await c.kube.getCustom(VS('v1beta1'), 'default', 'myhero');
    expect(after.spec).toEqual(before.spec);
    expect(JSON.stringify(after.spec)).toBe(JSON.stringify(before.spec));
    expect(after.metadata.labels).toEqual({ app: 'myhero' });
    expect(j.verdicts.map((v) => v.outcome)).toEqual(['not observed', 'not observed']);
    expect(j.verdicts[0]!.reason).toBe('no traffic was measured: give the step a url to sample, or run it in a game day with a load');
    expect(j.exitCode).toBe(0);
  });

  it('refuses to restore over a change someone else made meanwhile, with one line and the command that restores it', async () => {
    c = await meshCluster({ vs: gatewayVs() });
    const other = (async () => {
      await eventually(async () => !!(await c.kube.getCustom(VS(), 'default', 'myhero')).metadata.labels?.[RUN_LABEL], 10_000, 'the fault');
      await c.kube.patchCustom(VS(), 'default', 'myhero', { spec: { gateways: ['myhero-gateway'] } });
    })();
    const j = await run(c, faultPlan({ durationMs: 600 }));
    await other;
    const [rb] = j.rollbacks;
    expect(rb).toMatchObject({ name: 'restore VirtualService myhero', ok: false, error: expect.stringMatching(/^VirtualService default\/myhero was changed by someone else after the fault went in \(resourceVersion \d+, now \d+\): not restored over their change$/) });
    expect(rb!.command).toMatch(/^kubectl --kubeconfig \S+ --context stand-in -n default patch virtualservices\.networking\.istio\.io myhero --type merge -p '\{"metadata":/);
    expect(byName(j).rollbacks?.outcome).toBe('fail');
    expect(j.exitCode).toBe(1);
    const now = await c.kube.getCustom(VS(), 'default', 'myhero');
    expect(now.spec?.gateways).toEqual(['myhero-gateway']); // their change stands
  });

  it('preflight: no Istio, no injection, pods without sidecars — each one line with its fix, exit 2, nothing written', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const noIstio = await run(c, faultPlan({}));
    expect(noIstio.error).toBe("http-fault on myhero-app: Istio is not installed: the cluster serves no networking.istio.io API, so no VirtualService can inject HTTP faults (k3s's Traefik and ingress-nginx inject none)");
    expect(noIstio.exitCode).toBe(2);
    await c.stop();
    c = await meshCluster({ inject: false });
    const lines: string[] = [];
    const j = await run(c, faultPlan({}), { say: (l) => lines.push(l) });
    expect(j.exitCode).toBe(2);
    expect(lines.filter((l) => l.startsWith('preflight: '))).toEqual([
      'preflight: namespace default has no sidecar injection (no istio-injection=enabled or istio.io/rev label): its pods are outside the mesh; fix: kubectl label namespace default istio-injection=enabled, then restart the deployments',
      expect.stringMatching(/^preflight: 2 of 2 pod\(s\) of myhero-app run without the istio-proxy sidecar \(myhero-app-\S+, myhero-app-\S+\); fix: enable injection, then kubectl -n default rollout restart deployment/),
    ]);
    expect(writes(c)).toEqual([]);
    // chaos preflight says the same, as warnings.
    const findings = checkInventory(await readInventory(c.kube, 'default', 'app=myhero')).filter((f) => f.check === 'mesh');
    expect(findings.map((f) => `${f.severity} ${f.message}`)).toEqual(
      expect.arrayContaining(['warn http-fault: namespace default has no sidecar injection (no istio-injection=enabled or istio.io/rev label): its pods are outside the mesh']),
    );
  });

  it('dry run: reads discovery and the VirtualServices, says what it would do, writes nothing', async () => {
    c = await meshCluster();
    const lines: string[] = [];
    const j = await run(c, faultPlan({}), { dryRun: true, say: (l) => lines.push(l) });
    expect(j.status).toBe('completed');
    expect(lines).toContain('would create VirtualService default/myhero-ops-fault-myhero-app (networking.istio.io/v1) for myhero-app: HTTP 500 abort on 100% of requests; deleted afterwards');
    expect(writes(c)).toEqual([]);
  });

  it('Ctrl-C mid-fault restores a pre-existing VirtualService byte for byte and exits 130', async () => {
    c = await meshCluster({ vs: gatewayVs() });
    const before = await c.kube.getCustom(VS(), 'default', 'myhero');
    const out = `${c.dir}/sigint`;
    const fault = startCli(['chaos', 'http-fault', '-n', 'default', '--kubeconfig', c.kubeconfig, '--service', 'myhero-app', '--abort', '500', '--duration', '10m', '--poll', '100ms', '--out', out]);
    void eventually(async () => !!(await c.kube.getCustom(VS(), 'default', 'myhero')).metadata.labels?.[RUN_LABEL], 30_000, 'the fault').then(() => fault.child.kill('SIGINT'));
    const r = await fault.result;
    expect(r.code, r.stderr).toBe(130);
    const after = await c.kube.getCustom(VS(), 'default', 'myhero');
    expect(JSON.stringify(after.spec)).toBe(JSON.stringify(before.spec));
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    const j = JSON.parse(readFileSync(`${out}/journal.json`, 'utf8')) as JournalData;
    expect(j.status).toBe('interrupted');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore VirtualService myhero', ok: true })]);
    expect(j.steps).toEqual([expect.objectContaining({ kind: 'http-fault', status: 'interrupted' })]);
  }, 60_000);

  it('a run killed mid-fault leaves labelled objects: a new fault refuses them, and chaos cleanup restores and deletes them', async () => {
    c = await meshCluster({ vs: gatewayVs() });
    const before = await c.kube.getCustom(VS(), 'default', 'myhero');
    const killed = (service: string, name: string) => {
      const fault = startCli(['chaos', 'http-fault', '-n', 'default', '--kubeconfig', c.kubeconfig, '--service', service, '--delay', '2s', '--duration', '10m', '--out', `${c.dir}/${service}`]);
      void eventually(async () => !!(await c.kube.getCustom(VS(), 'default', name).catch(() => undefined))?.metadata.labels?.[RUN_LABEL], 30_000, name).then(() => fault.child.kill('SIGKILL'));
      return fault.result;
    };
    await Promise.all([killed('myhero-app', 'myhero'), killed('myhero-ui', 'myhero-ops-fault-myhero-ui')]);
    const refused = await run(c, faultPlan({}));
    expect(refused.error).toMatch(/^VirtualService default\/myhero still carries a fault of chaos run \S+: run myhero-ops chaos cleanup -n default first$/);
    expect(refused.exitCode).toBe(2);
    const listed = await cleanupLeftovers(c.kube, 'default', { dryRun: true });
    expect(listed).toEqual([
      { object: 'VirtualService default/myhero', run: expect.any(String), action: 'would restore' },
      { object: 'VirtualService default/myhero-ops-fault-myhero-ui', run: expect.any(String), action: 'would delete' },
    ]);
    expect(await cleanupLeftovers(c.kube, 'default', { dryRun: false })).toEqual([
      expect.objectContaining({ action: 'restored', object: 'VirtualService default/myhero' }),
      expect.objectContaining({ action: 'deleted', object: 'VirtualService default/myhero-ops-fault-myhero-ui' }),
    ]);
    const after = await c.kube.getCustom(VS(), 'default', 'myhero');
    expect(JSON.stringify(after.spec)).toBe(JSON.stringify(before.spec));
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect((await c.kube.listCustom(VS(), 'default')).map((v) => v.metadata.name)).toEqual(['myhero']);
    expect(await cleanupLeftovers(c.kube, 'default', { dryRun: false })).toEqual([]);
  }, 60_000);
});
