import { describe, expect, it } from 'vitest';
import { SchemaError, validateObject } from '../../test/fixtures/k8s-schemas.ts';
import { mergePatch } from '../../test/fixtures/kube-apiserver/patch.ts';
import type { CustomObject } from '../../lib/kube.ts';
import { checkInventory, type Inventory } from '../preflight.ts';
import { checkMesh, faultPatch, faultVirtualService, istioFault, leftoverOf, restorePatch, routesToService, type Fault } from '../mesh.ts';

// What http-fault writes to a cluster, checked against Istio's published CRD schema
// (@kubernetes-models/istio) and its webhook's rules: the VirtualService it creates
// and the VirtualService its patches make of an existing one, in every API version
// Istio serves; and the restore patch gives the original spec back exactly.

const FAULTS: Fault[] = [
  { abort: 500, percent: 50 },
  { abort: 503, percent: 100 },
  { delayMs: 5000, percent: 100 },
  { delayMs: 250, percent: 12.5 },
];

/** The tutorial-style VirtualService a team already has: a gateway's routes to the app and the UI. */
const existing = (apiVersion: string): CustomObject => ({
  apiVersion,
  kind: 'VirtualService',
  metadata: { name: 'myhero', namespace: 'default', resourceVersion: '42', labels: { app: 'myhero' } },
  spec: {
    hosts: ['*'],
    gateways: ['myhero-gateway'],
    http: [
      { match: [{ uri: { prefix: '/api' } }], rewrite: { uri: '/' }, route: [{ destination: { host: 'myhero-app.default.svc.cluster.local', port: { number: 80 } } }] },
      { route: [{ destination: { host: 'myhero-ui', port: { number: 80 } } }], timeout: '10s' },
    ],
  },
});

describe('http-fault writes what Istio accepts', () => {
  it("the VirtualService it creates validates against Istio's CRD schema, in every served version", async () => {
    for (const version of ['v1', 'v1beta1', 'v1alpha3']) {
      for (const f of FAULTS) await validateObject(faultVirtualService(version, 'myhero-app', 'default', f, '20250301-141502-k3x9'));
    }
    expect(istioFault({ delayMs: 250, percent: 12.5 })).toEqual({ delay: { fixedDelay: '0.25s', percentage: { value: 12.5 } } });
  });

  it('the patch inserts the fault into the routes that reach the Service only, and the patched object validates', async () => {
    for (const apiVersion of ['networking.istio.io/v1', 'networking.istio.io/v1beta1']) {
      const vs = existing(apiVersion);
      expect(routesToService(vs, 'myhero-app', 'default')).toEqual([0]);
      expect(routesToService(vs, 'myhero-ui', 'default')).toEqual([1]);
      for (const f of FAULTS) {
        const patched = mergePatch(vs, faultPatch(vs, [0], f, 'run-1')) as CustomObject;
        await validateObject(patched);
        const http = patched.spec!.http as { fault?: unknown }[];
        expect(http[0]!.fault).toEqual(istioFault(f));
        expect(http[1]!.fault).toBeUndefined();
        expect(patched.metadata.labels).toEqual({ app: 'myhero', 'myhero-ops/chaos-run': 'run-1' });
        // Restored from the object as it is now: the spec exactly as it was, the marks gone.
        const restored = mergePatch(patched, restorePatch(vs.spec!, patched)) as CustomObject;
        expect(restored.spec).toEqual(vs.spec);
        expect(restored.metadata.labels).toEqual({ app: 'myhero' });
        expect(restored.metadata.annotations).toEqual({});
        // A leftover of it says how to restore it, from the saved spec alone.
        expect(leftoverOf(patched)).toEqual({ kind: 'changed', original: vs.spec });
      }
    }
    // A VirtualService for the Service's own host: every route carries its traffic.
    expect(routesToService({ metadata: { name: 'x' }, spec: { hosts: ['myhero-app'], http: [{}, {}] } }, 'myhero-app', 'default')).toEqual([0, 1]);
  });

  it('rejects what a naive fault would write (negative control): a delay in ms, a percentage over 100, an abort without a status', async () => {
    const base = faultVirtualService('v1', 'myhero-app', 'default', { abort: 500, percent: 50 }, 'r');
    const withFault = (fault: unknown) => ({ ...base, spec: { ...base.spec, http: [{ fault, route: [{ destination: { host: 'myhero-app' } }] }] } });
    for (const fault of [{ delay: { fixedDelay: '500ms' } }, { abort: { httpStatus: 500, percentage: { value: 150 } } }, { abort: { percentage: { value: 50 } } }, { delay: { fixedDelay: 5 } }]) {
      await expect(validateObject(withFault(fault)), JSON.stringify(fault)).rejects.toBeInstanceOf(SchemaError);
    }
  });

  it('preflight: each missing piece of the mesh is one finding with its fix', () => {
    const ns = { metadata: { name: 'default' } };
    const pod = (name: string, sidecar: boolean) => ({ metadata: { name }, spec: { containers: [{ name: 'app' }, ...(sidecar ? [{ name: 'istio-proxy' }] : [])] } });
    const noIstio = checkMesh({ namespace: ns, service: 'myhero-app', pods: [] });
    expect(noIstio.map((f) => f.message)).toEqual([expect.stringContaining("Istio is not installed: the cluster serves no networking.istio.io API")]);
    expect(noIstio[0]!.message).toContain("k3s's Traefik and ingress-nginx inject none");
    const istio = { preferred: 'v1', served: ['v1'] };
    const missing = checkMesh({ istio, namespace: ns, service: 'myhero-app', pods: [pod('a-1', true), pod('a-2', false)] });
    expect(missing.map((f) => `${f.message} | ${f.fix}`)).toEqual([
      'namespace default has no sidecar injection (no istio-injection=enabled or istio.io/rev label): its pods are outside the mesh | kubectl label namespace default istio-injection=enabled, then restart the deployments',
      '1 of 2 pod(s) of myhero-app run without the istio-proxy sidecar (a-2) | enable injection, then kubectl -n default rollout restart deployment (the one behind myhero-app)',
    ]);
    const ready = checkMesh({ istio, namespace: { metadata: { name: 'default', labels: { 'istio.io/rev': 'canary' } } }, service: 'myhero-app', pods: [pod('a-1', true)] });
    expect(ready).toEqual([]);
    // istio-injection takes precedence over a revision label: `disabled` means outside the mesh.
    const disabled = checkMesh({ istio, namespace: { metadata: { name: 'default', labels: { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' } } }, service: 'myhero-app', pods: [pod('a-1', true)] });
    expect(disabled.map((f) => f.object)).toEqual(['namespace/default']);
  });

  it('chaos preflight: the namespace finding once for every Deployment, a sidecar finding per Deployment with pods, all warnings', () => {
    const deployment = (tier: string) => ({ metadata: { name: `myhero-${tier}`, labels: { tier } }, spec: { selector: { matchLabels: { tier } }, template: { metadata: { labels: { tier } }, spec: { containers: [] } } } });
    const pod = (name: string, tier: string) => ({ metadata: { name, labels: { tier } }, spec: { containers: [{ name: 'app' }] } });
    const mesh = { namespace: { metadata: { name: 'default' } }, pods: [pod('app-1', 'app'), pod('ui-1', 'ui')] };
    const inv = { deployments: [deployment('app'), deployment('ui'), deployment('data')], hpas: [], pdbs: [] } as unknown as Inventory;
    const meshFindings = (i: Inventory) => checkInventory(i).filter((f) => f.check === 'mesh').map((f) => `${f.severity} ${f.object} ${f.message}`);
    expect(meshFindings({ ...inv, mesh: { ...mesh, istio: { preferred: 'v1', served: ['v1'] } } })).toEqual([
      'warn namespace/default http-fault: namespace default has no sidecar injection (no istio-injection=enabled or istio.io/rev label): its pods are outside the mesh',
      'warn service/myhero-app http-fault: 1 of 1 pod(s) of myhero-app run without the istio-proxy sidecar (app-1)',
      'warn service/myhero-ui http-fault: 1 of 1 pod(s) of myhero-ui run without the istio-proxy sidecar (ui-1)',
    ]);
    expect(meshFindings({ ...inv, mesh })).toEqual([
      "warn - Istio is not installed: the cluster serves no networking.istio.io API, so no VirtualService can inject HTTP faults (k3s's Traefik and ingress-nginx inject none): chaos http-fault cannot run here",
    ]);
  });
});
