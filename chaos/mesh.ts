import type { CustomObject, CustomResource, V1Namespace, V1Pod } from '../lib/kube.ts';
import type { Finding } from './preflight.ts';

// Istio's side of the http-fault action, as pure functions: which VirtualService
// routes a Service, the fault as Istio spells it (HTTPFaultInjection), the patch
// that inserts it and the one that puts the original back exactly, the object made
// when none routes the Service, and the preflight of the mesh. Everything the action
// writes is marked, so `chaos cleanup` can find what an interrupted run left.

export const ISTIO_GROUP = 'networking.istio.io';

export const virtualServices = (version: string): CustomResource => ({ group: ISTIO_GROUP, version, plural: 'virtualservices' });

/** On objects the action creates (`myhero-ops`), as the Kubernetes recommended label says who manages them. */
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGER = 'myhero-ops';
/** On everything the action creates or changes: the run that did it. */
export const RUN_LABEL = 'myhero-ops/chaos-run';
/** On a VirtualService the action changed: its spec before the change, so a leftover can be restored by `chaos cleanup`. */
export const ORIGINAL_ANNOTATION = 'myhero-ops/original-spec';

/** An HTTP fault as the action takes it: an abort with a status, or a fixed delay, on a share of the requests. */
export type Fault = { abort: number; percent: number } | { delayMs: number; percent: number };

export const describeFault = (f: Fault): string =>
  'abort' in f ? `HTTP ${f.abort} abort on ${f.percent}% of requests` : `${+(f.delayMs / 1000).toFixed(3)} s delay on ${f.percent}% of requests`;

/**
 * Istio's HTTPFaultInjection. A fixed delay is a protobuf Duration, which Istio reads
 * only as seconds with an `s` suffix ("5s", "0.5s"), not "500ms".
 */
export function istioFault(f: Fault): Record<string, unknown> {
  const percentage = { value: f.percent };
  return 'abort' in f ? { abort: { httpStatus: f.abort, percentage } } : { delay: { fixedDelay: `${+(f.delayMs / 1000).toFixed(3)}s`, percentage } };
}

/** The names a Service answers to in a VirtualService's hosts or a route's destination. */
export const serviceHosts = (service: string, namespace: string): string[] => [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];

interface HttpRoute {
  route?: { destination?: { host?: string } }[];
  fault?: unknown;
  [field: string]: unknown;
}

const httpOf = (vs: CustomObject): HttpRoute[] => ((vs.spec?.http ?? []) as HttpRoute[]);

/**
 * The HTTP routes of `vs` that carry the Service's traffic: all of them when the
 * VirtualService is for the Service's host, otherwise those whose destination is it
 * (a gateway's VirtualService for `*` routing to the Service).
 */
export function routesToService(vs: CustomObject, service: string, namespace: string): number[] {
  const names = serviceHosts(service, namespace);
  const routes = httpOf(vs);
  if (((vs.spec?.hosts ?? []) as string[]).some((h) => names.includes(h))) return routes.map((_, i) => i);
  return routes.flatMap((r, i) => ((r.route ?? []).some((d) => names.includes(d.destination?.host ?? '')) ? [i] : []));
}

/** The merge patch that inserts the fault into routes `indexes` and marks the object (resourceVersion: a precondition). */
export function faultPatch(vs: CustomObject, indexes: readonly number[], fault: Fault, runId: string): object {
  const http = httpOf(vs).map((r, i) => (indexes.includes(i) ? { ...r, fault: istioFault(fault) } : r));
  return {
    metadata: {
      resourceVersion: vs.metadata.resourceVersion,
      labels: { [RUN_LABEL]: runId },
      annotations: { [ORIGINAL_ANNOTATION]: JSON.stringify(vs.spec ?? {}) },
    },
    spec: { http },
  };
}

/**
 * The merge patch that puts the spec back as it was and removes the marks. Every
 * field of a VirtualService's spec is a list or a scalar, which a merge patch
 * replaces whole; a field the original did not have is removed (null).
 */
export function restorePatch(original: Record<string, unknown>, current: CustomObject, resourceVersion?: string): object {
  const spec: Record<string, unknown> = { ...original };
  for (const k of Object.keys(current.spec ?? {})) if (!(k in original)) spec[k] = null;
  return {
    metadata: { ...(resourceVersion ? { resourceVersion } : {}), labels: { [RUN_LABEL]: null }, annotations: { [ORIGINAL_ANNOTATION]: null } },
    spec,
  };
}

/** The VirtualService made when none routes the Service: the fault on all of its traffic inside the mesh. */
export function faultVirtualService(version: string, service: string, namespace: string, fault: Fault, runId: string): CustomObject {
  return {
    apiVersion: `${ISTIO_GROUP}/${version}`,
    kind: 'VirtualService',
    metadata: { name: `myhero-ops-fault-${service}`, namespace, labels: { [MANAGED_BY]: MANAGER, [RUN_LABEL]: runId } },
    spec: { hosts: [service], http: [{ fault: istioFault(fault), route: [{ destination: { host: service } }] }] },
  };
}

/** A leftover of an interrupted run: created by the action (delete it) or changed by it (restore its spec). */
export function leftoverOf(vs: CustomObject): { kind: 'created' } | { kind: 'changed'; original: Record<string, unknown> } | undefined {
  const labels = vs.metadata.labels ?? {};
  if (!(RUN_LABEL in labels)) return undefined;
  const saved = vs.metadata.annotations?.[ORIGINAL_ANNOTATION];
  if (saved !== undefined) return { kind: 'changed', original: JSON.parse(saved) as Record<string, unknown> };
  return labels[MANAGED_BY] === MANAGER ? { kind: 'created' } : undefined;
}

/** Whether a pod runs Istio's sidecar (a container, or a native sidecar init container, named istio-proxy). */
export const hasSidecar = (p: V1Pod): boolean =>
  [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy') || !!p.metadata?.annotations?.['sidecar.istio.io/status'];

/**
 * Whether a namespace gets sidecars injected: `istio-injection=enabled`, or a revision
 * label (`istio.io/rev`) without `istio-injection`, which takes precedence when both are
 * there (`istio-injection=disabled` turns injection off whatever the revision says).
 */
export function injectionEnabled(ns: V1Namespace): boolean {
  const labels = ns.metadata?.labels ?? {};
  return labels['istio-injection'] !== undefined ? labels['istio-injection'] === 'enabled' : !!labels['istio.io/rev'];
}

export interface MeshInventory {
  /** What discovery says of networking.istio.io; undefined when the cluster does not serve it. */
  istio?: { preferred: string; served: string[] };
  namespace: V1Namespace;
  /** The target Service's name. */
  service: string;
  /** Its pods (the Service's selector). */
  pods: V1Pod[];
}

/** What fault injection through Istio needs of the cluster and the namespace: Istio's API, and sidecar injection. */
export function checkMeshNamespace(istio: MeshInventory['istio'], namespace: V1Namespace): Finding[] {
  const ns = namespace.metadata?.name ?? '?';
  if (!istio) {
    return [
      {
        severity: 'fail',
        object: '-',
        check: 'mesh',
        message: `Istio is not installed: the cluster serves no ${ISTIO_GROUP} API, so no VirtualService can inject HTTP faults (k3s's Traefik and ingress-nginx inject none)`,
        fix: 'install Istio (istioctl install) and enable sidecar injection, or leave http-fault out (chaos/README.md: "Without Istio")',
      },
    ];
  }
  if (injectionEnabled(namespace)) return [];
  return [
    {
      severity: 'fail',
      object: `namespace/${ns}`,
      check: 'mesh',
      message: `namespace ${ns} has no sidecar injection (no istio-injection=enabled or istio.io/rev label): its pods are outside the mesh`,
      fix: `kubectl label namespace ${ns} istio-injection=enabled, then restart the deployments`,
    },
  ];
}

/** What fault injection needs of one Service's pods: there are some, and each runs the sidecar. */
export function checkMeshPods(service: string, namespace: string, pods: V1Pod[]): Finding[] {
  const object = `service/${service}`;
  if (pods.length === 0) return [{ severity: 'fail', object, check: 'mesh', message: `service ${service} selects no pods`, fix: 'check the Service and its Deployment' }];
  const without = pods.filter((p) => !hasSidecar(p)).map((p) => p.metadata?.name);
  if (!without.length) return [];
  return [
    {
      severity: 'fail',
      object,
      check: 'mesh',
      message: `${without.length} of ${pods.length} pod(s) of ${service} run without the istio-proxy sidecar (${without.join(', ')})`,
      fix: `enable injection, then kubectl -n ${namespace} rollout restart deployment (the one behind ${service})`,
    },
  ];
}

/** What fault injection through Istio needs, each missing piece one finding with its fix (the pods are checked once Istio is there). */
export function checkMesh(inv: MeshInventory): Finding[] {
  const cluster = checkMeshNamespace(inv.istio, inv.namespace);
  if (!inv.istio) return cluster;
  return [...cluster, ...checkMeshPods(inv.service, inv.namespace.metadata?.name ?? '?', inv.pods)];
}
