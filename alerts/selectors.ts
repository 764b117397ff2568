import type { EXTERNAL, ISTIO, KSM, NODE, PROMETHEUS, RPI, TRAEFIK, TWIN } from '../lib/catalog.ts';
import { K8S } from '../lib/defaults.ts';

// Where the rules look: one config of namespace and job names, so the same
// rules fit the lab, a k3s Pi cluster or GKE. Every PromQL selector in the
// rules is built here from a catalogue metric name and these values.

export interface Selectors {
  /** Namespace myhero runs in; '' matches every namespace (e.g. the lab, whose targets carry none). */
  namespace: string;
  /** `job` label of each scrape target (with the Prometheus Operator: the Service name). */
  jobs: {
    app: string;
    data: string;
    ernst: string;
    /** The ARM temperature exporter DaemonSet. */
    exporter: string;
    kubeStateMetrics: string;
  };
  /** The app's Deployment, whose available replicas tell whether any app pod passes its readiness probe. */
  appDeployment: string;
  /** Regex for myhero's Deployment, HPA and pod names, so other workloads in the namespace stay out. */
  workloadPattern: string;
}

export const DEFAULT_SELECTORS: Selectors = {
  namespace: K8S.defaultNamespace,
  jobs: {
    app: 'myhero-app',
    data: 'myhero-data',
    ernst: 'myhero-ernst',
    exporter: 'arm-exporter',
    kubeStateMetrics: 'kube-state-metrics',
  },
  appDeployment: K8S.appDeployment,
  workloadPattern: 'myhero-.*',
};

type Values<T> = T[keyof T];

/** A metric name the catalogue holds: the type system refuses any other string. */
export type CatalogMetric =
  | Values<typeof TWIN>
  | Values<typeof RPI>
  | Values<typeof NODE>
  | Values<typeof KSM>
  | Values<typeof TRAEFIK>
  | Values<typeof ISTIO>
  | Values<typeof PROMETHEUS>
  | (typeof EXTERNAL)[keyof typeof EXTERNAL][number];

/** The series name of a catalogue histogram's buckets. */
export function buckets(histogram: typeof TWIN.httpDuration): `${typeof TWIN.httpDuration}_bucket` {
  return `${histogram}_bucket`;
}

/** A label matcher value: a plain string is an equality match, `{ re }` a regex match, `{ notRe }` a negative one. */
export type Matcher = string | { re: string } | { notRe: string };

function quote(value: string): string {
  return JSON.stringify(value);
}

/** `metric{l1="v1", l2=~"re"}`, matchers in the order given; an empty equality value is left out. */
export function series(metric: CatalogMetric | `${CatalogMetric}_bucket`, matchers: Record<string, Matcher>): string {
  const parts: string[] = [];
  for (const [label, m] of Object.entries(matchers)) {
    if (typeof m === 'string') {
      if (m !== '') parts.push(`${label}=${quote(m)}`);
    } else if ('re' in m) {
      parts.push(`${label}=~${quote(m.re)}`);
    } else {
      parts.push(`${label}!~${quote(m.notRe)}`);
    }
  }
  return parts.length ? `${metric}{${parts.join(', ')}}` : metric;
}

/** Matchers for one of myhero's own scrape jobs, scoped to the configured namespace. */
export function jobMatchers(s: Selectors, job: 'app' | 'data' | 'ernst'): Record<string, Matcher> {
  return { job: s.jobs[job], namespace: s.namespace };
}

/** Matchers for the ARM exporter: it runs in the monitoring stack's namespace, not myhero's, so only its job counts. */
export function exporterMatchers(s: Selectors): Record<string, Matcher> {
  return { job: s.jobs.exporter };
}

/**
 * Matchers for kube-state-metrics series about myhero objects in the namespace
 * (ksm's ServiceMonitor honours labels, so `namespace` is the object's).
 */
export function ksmMatchers(s: Selectors, objectLabel?: 'deployment' | 'horizontalpodautoscaler' | 'pod'): Record<string, Matcher> {
  const m: Record<string, Matcher> = { job: s.jobs.kubeStateMetrics, namespace: s.namespace };
  if (objectLabel) m[objectLabel] = { re: s.workloadPattern };
  return m;
}
