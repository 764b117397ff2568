import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectKube, KubeError, podReady, type Kube } from '../lib/kube.ts';
import { myheroDeployment, startApiServer, startService, stopAfterEach, writeKubeconfig, type ApiServer } from './fixtures/kube-apiserver/index.ts';

// The stand-in's Istio: discovery of networking.istio.io, VirtualServices validated as
// the API server (Istio's CRD schema) and Istio's webhook validate them, the sidecar
// injector, and the Service applying a VirtualService's fault to the traffic it routes.
// Each behaviour the http-fault action relies on, shown on its own with its control.

const dir = mkdtempSync(join(tmpdir(), 'kube-istio-'));
const VS = { group: 'networking.istio.io', plural: 'virtualservices' };
const started = stopAfterEach();

async function start(opts: { istio?: { versions?: string[] }; namespaceLabels?: Record<string, string> } = {}): Promise<{ a: ApiServer; kube: Kube }> {
  const api = started(await startApiServer({ msPerSecond: 5, istio: opts.istio }));
  api.cluster.addNamespace('default', opts.namespaceLabels);
  for (const n of ['pi-1', 'pi-2']) api.cluster.addNode(n);
  return { a: api, kube: connectKube({ kubeconfig: writeKubeconfig(join(dir, `k-${Date.now()}.yaml`), { server: api.url }) }) };
}

const vs = (version: string, fault: unknown, extra: Record<string, unknown> = {}) => ({
  apiVersion: `networking.istio.io/${version}`,
  kind: 'VirtualService',
  metadata: { name: 'myhero-app' },
  spec: { hosts: ['myhero-app'], http: [{ fault, route: [{ destination: { host: 'myhero-app' } }] }], ...extra },
});

const failure = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof KubeError ? `${e.status} ${e.message}` : String(e)));

describe('the stand-in serves Istio', () => {
  it('discovery names networking.istio.io and its preferred version once Istio is installed, and nothing before', async () => {
    const { a, kube } = await start();
    expect(await kube.apiGroup('networking.istio.io')).toBeUndefined();
    expect(await kube.apiGroup('apps')).toEqual({ preferred: 'v1', served: ['v1'] });
    expect(await failure(kube.listCustom({ ...VS, version: 'v1' }, 'default'))).toMatch(/^404 /);
    a.cluster.installIstio();
    expect(await kube.apiGroup('networking.istio.io')).toEqual({ preferred: 'v1', served: ['v1', 'v1beta1', 'v1alpha3'] });
    a.cluster.installIstio(['v1beta1', 'v1alpha3']); // Istio before 1.22
    expect(await kube.apiGroup('networking.istio.io')).toEqual({ preferred: 'v1beta1', served: ['v1beta1', 'v1alpha3'] });
    expect(await failure(kube.listCustom({ ...VS, version: 'v1' }, 'default'))).toMatch(/^404 /);
  });

  it("validates VirtualServices against Istio's CRD schema and webhook, 422 otherwise; one object in every served version; no strategic merge", async () => {
    const { a, kube } = await start({ istio: {} });
    const v1 = { ...VS, version: 'v1' };
    const bad: [unknown, string][] = [
      [{ abort: { httpStatus: '500' } }, 'spec.http[0].fault.abort.httpStatus: Invalid value: must be integer'],
      [{ abort: { percentage: { value: 50 } } }, 'abort must specify an HTTP status'],
      [{ abort: { httpStatus: 700 } }, 'invalid abort http status'],
      [{ delay: { fixedDelay: 5 } }, 'spec.http[0].fault.delay.fixedDelay: Invalid value: must be string'],
      [{ delay: { fixedDelay: '500ms' } }, 'invalid duration "500ms"'],
      [{ delay: { fixedDelay: '5s', percentage: { value: 150 } } }, 'percentage must be in range [0, 100]'],
      [{}, 'fault must have an abort or delay'],
    ];
    for (const [fault, message] of bad) {
      const got = await failure(kube.createCustom(v1, 'default', vs('v1', fault) as never));
      expect(got, JSON.stringify(fault)).toMatch(/^422 /);
      expect(got, JSON.stringify(fault)).toContain(message);
    }
    // The control: what Istio accepts is accepted.
    const made = await kube.createCustom(v1, 'default', vs('v1', { abort: { httpStatus: 500, percentage: { value: 50 } } }) as never);
    expect(made.apiVersion).toBe('networking.istio.io/v1');
    const old = await kube.getCustom({ ...VS, version: 'v1alpha3' }, 'default', 'myhero-app');
    expect(old.apiVersion).toBe('networking.istio.io/v1alpha3');
    expect(old.spec).toEqual(made.spec);
    expect(await failure(kube.patchCustom(v1, 'default', 'myhero-app', { spec: { hosts: [] } }))).toContain('virtual service must have at least one host');
    // Custom resources have no list merge keys: a strategic merge patch is 415, as from a real API server.
    const res = await fetch(`${a.url}/apis/networking.istio.io/v1/namespaces/default/virtualservices/myhero-app`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: '{"spec":{}}',
    });
    expect(res.status).toBe(415);
    // A stale resourceVersion is a conflict here too.
    expect(await failure(kube.patchCustom(v1, 'default', 'myhero-app', { metadata: { resourceVersion: '1' }, spec: { gateways: ['mesh'] } }))).toMatch(/^409 /);
  });

  it("injects the istio-proxy sidecar into pods of a namespace labelled for it, and only there", async () => {
    // istio-injection takes precedence over a revision label: `disabled` wins.
    const cases: [Record<string, string> | undefined, boolean][] = [
      [{ 'istio-injection': 'enabled' }, true],
      [{ 'istio.io/rev': 'canary' }, true],
      [undefined, false],
      [{ 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }, false],
    ];
    for (const [namespaceLabels, inject] of cases) {
      const { a, kube } = await start({ istio: {}, namespaceLabels });
      a.cluster.apply(myheroDeployment('app', { replicas: 1, cpuRequest: '100m' }));
      await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10 });
      const [pod] = await kube.listPods('default', { labelSelector: 'tier=app' });
      expect(pod!.spec!.containers.map((c) => c.name)).toEqual(inject ? ['myhero-app', 'istio-proxy'] : ['myhero-app']);
      expect(podReady(pod!)).toBe(true);
      await a.stop();
    }
  });

  it("the Service applies a VirtualService's abort to its share of the requests, and its delay, for mesh traffic only", async () => {
    const { a, kube } = await start({ istio: {} });
    a.cluster.apply(myheroDeployment('app', { replicas: 2, cpuRequest: '100m' }));
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10 });
    while (a.cluster.endpoints('default', { tier: 'app' }).length < 2) await new Promise((r) => setTimeout(r, 10));
    const service = started(await startService(a.cluster, { namespace: 'default', selector: { app: 'myhero', tier: 'app' }, key: 'k', mesh: { host: 'myhero-app' } }));
    const statuses = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await fetch(`${service.url}/health`)).status);
      return out;
    };
    expect(new Set(await statuses(20))).toEqual(new Set([200]));
    await kube.createCustom({ ...VS, version: 'v1' }, 'default', vs('v1', { abort: { httpStatus: 503, percentage: { value: 30 } } }) as never);
    const got = await statuses(200);
    const aborted = got.filter((s) => s === 503).length;
    // 30 % of 200: 60; 99.9 % of runs fall within ±3.29 standard deviations (±21) of it.
    expect(aborted).toBeGreaterThanOrEqual(39);
    expect(aborted).toBeLessThanOrEqual(81);
    expect(got.filter((s) => s !== 503 && s !== 200)).toEqual([]);
    expect(service.stats.aborted).toBe(aborted);

    // A delay, on every request.
    await kube.patchCustom({ ...VS, version: 'v1' }, 'default', 'myhero-app', { spec: { http: [{ fault: { delay: { fixedDelay: '0.3s' } }, route: [{ destination: { host: 'myhero-app' } }] }] } });
    const t0 = Date.now();
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);

    // Bound to a gateway only: mesh traffic is not faulted; traffic through that gateway is.
    await kube.patchCustom({ ...VS, version: 'v1' }, 'default', 'myhero-app', { spec: { gateways: ['myhero-gateway'], http: [{ fault: { abort: { httpStatus: 500 } }, route: [{ destination: { host: 'myhero-app' } }] }] } });
    expect(new Set(await statuses(10))).toEqual(new Set([200]));
    const viaGateway = started(await startService(a.cluster, { namespace: 'default', selector: { tier: 'app' }, key: 'k', mesh: { host: 'myhero-app', gateway: 'myhero-gateway' } }));
    const noMesh = started(await startService(a.cluster, { namespace: 'default', selector: { tier: 'app' }, key: 'k' }));
    expect((await fetch(`${viaGateway.url}/health`)).status).toBe(500);
    expect((await fetch(`${noMesh.url}/health`)).status).toBe(200); // a NodePort client: outside the mesh, no fault
    // Removed: gone.
    await kube.deleteCustom({ ...VS, version: 'v1' }, 'default', 'myhero-app');
    expect(new Set(await statuses(10))).toEqual(new Set([200]));
  });
});
