import { ISTIO, KSM, LABELS, LOADTEST, TRAEFIK, TWIN } from '../lib/catalog.ts';
import { bucket, quantile, rate, sel, sumBy, when } from './promql.ts';

// The PromQL expressions more than one dashboard shows (the game day page
// repeats pieces of the service and workloads pages), written once.

export const NAMESPACE = 'namespace=~"$namespace"';
export const JOB = 'job=~"$job"';
/** myhero's Deployments, HPAs and pods by name, so other workloads in the namespace stay out. */
export const MYHERO_DEPLOYMENTS = 'deployment=~"myhero-.*"';
export const MYHERO_PODS = 'pod=~"myhero-.*"';
export const MYHERO_HPAS = 'horizontalpodautoscaler=~"myhero-.*"';

/** `tier` from a Deployment named myhero-<tier> or a pod myhero-<tier>-<hash>-<id>. */
export const tierOfDeployment = (expr: string) => `label_replace(${expr}, "tier", "$1", "deployment", "myhero-(.*)")`;
export const tierOfPod = (expr: string) => `label_replace(${expr}, "tier", "$1", "pod", "myhero-([a-z]+)-.*")`;

// ---------------------------------------------------------------- kube-state-metrics

export const desiredPerTier = () => tierOfDeployment(sumBy(['deployment'], sel(KSM.deploymentSpecReplicas, NAMESPACE, MYHERO_DEPLOYMENTS)));
export const availablePerTier = () =>
  tierOfDeployment(sumBy(['deployment'], sel(KSM.deploymentAvailableReplicas, NAMESPACE, MYHERO_DEPLOYMENTS)));
export const readyPodsPerTier = () => sumBy(['tier'], tierOfPod(sel(KSM.podStatusReady, NAMESPACE, MYHERO_PODS, 'condition="true"')));
export const hpaReplicas = (metric: string) => `max by (horizontalpodautoscaler) (${sel(metric, NAMESPACE, MYHERO_HPAS)})`;
export const readyNodes = () => sel(KSM.nodeStatusCondition, 'condition="Ready"', 'status="true"');

// ---------------------------------------------------------------- the twin's RED metrics and vote counters

export const twin = (metric: string, ...matchers: string[]) => sel(metric, JOB, NAMESPACE, ...matchers);

/** Share of requests answered 5xx; 0 rather than no data while nothing fails. */
export function twinErrorRatio(by: readonly string[], ...matchers: string[]): string {
  const all = sumBy(by, rate(twin(TWIN.httpRequests, ...matchers)));
  const failed = sumBy(by, rate(twin(TWIN.httpRequests, `${LABELS.code}=~"5.."`, ...matchers)));
  return `(${failed} or ${all} * 0) / ${all}`;
}

export const twinQuantile = (q: number, by: readonly string[], ...matchers: string[]) =>
  quantile(q, rate(twin(bucket(TWIN.httpDuration), ...matchers)), by);

export const votesPerSecond = (counter: string, by: readonly string[] = []) => sumBy(by, rate(twin(counter)));

/**
 * Votes in the queue: published by the app minus taken off by ernst. A counter
 * difference across two processes: exact until one of them restarts (its
 * counter starts again from 0), which the fill/drain rates do not suffer from.
 */
export const queueBacklog = () => `clamp_min(${sumBy([], twin(TWIN.votesPublished))} - ${sumBy([], twin(TWIN.votesProcessed))}, 0)`;

// ---------------------------------------------------------------- ingress metrics, for deployments without the twin

/** Traefik v2 names services `<namespace>-<service>-<port>@<provider>`. */
const TRAEFIK_SERVICES = 'service=~"($namespace)-myhero-.+@.+"';
const traefikTier = (expr: string) => `label_replace(${expr}, "service", "$1", "service", "(?:.*-)?myhero-([a-z]+)-[^-@]+@.*")`;
const ISTIO_WORKLOADS = ['reporter="destination"', 'destination_workload_namespace=~"$namespace"', 'destination_workload=~"myhero-.*"'];
const istioTier = (expr: string) => `label_replace(${expr}, "service", "$1", "destination_workload", "myhero-(.*)")`;

/** Where RED metrics come from: the twin's own, or the ingress in front of a real myhero. */
export const SOURCES = ['twin', 'traefik', 'istio'] as const;
export type Source = (typeof SOURCES)[number];
export const SOURCE_VAR = 'source';

export interface RedQuery {
  source: Source;
  expr: string;
  legend: string;
}

/** Requests per second per service (and route, or method where the ingress has no route). */
export function redRate(): RedQuery[] {
  return [
    { source: 'twin', expr: sumBy(['service', 'route'], rate(twin(TWIN.httpRequests))), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(sumBy(['service', 'method'], rate(sel(TRAEFIK.requests, TRAEFIK_SERVICES)))),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(sumBy(['destination_workload'], rate(sel(ISTIO.requests, ...ISTIO_WORKLOADS)))),
      legend: '{{service}}',
    },
  ];
}

export function redErrorRatio(): RedQuery[] {
  const ratio = (metric: string, codeLabel: string, by: string[], ...matchers: string[]) => {
    const all = sumBy(by, rate(sel(metric, ...matchers)));
    const failed = sumBy(by, rate(sel(metric, ...matchers, `${codeLabel}=~"5.."`)));
    return `(${failed} or ${all} * 0) / ${all}`;
  };
  return [
    { source: 'twin', expr: twinErrorRatio(['service', 'route']), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(ratio(TRAEFIK.requests, 'code', ['service', 'method'], TRAEFIK_SERVICES)),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(ratio(ISTIO.requests, 'response_code', ['destination_workload'], ...ISTIO_WORKLOADS)),
      legend: '{{service}}',
    },
  ];
}

/** Latency quantile in seconds (Istio reports milliseconds). */
export function redLatency(q: number): RedQuery[] {
  return [
    { source: 'twin', expr: twinQuantile(q, ['service', 'route']), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(quantile(q, rate(sel(TRAEFIK.durationBucket, TRAEFIK_SERVICES)), ['service', 'method'])),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(`${quantile(q, rate(sel(ISTIO.durationBucket, ...ISTIO_WORKLOADS)), ['destination_workload'])} / 1000`),
      legend: '{{service}}',
    },
  ];
}

/** Each source's query, silenced unless `$source` selects it. */
export const gated = (queries: RedQuery[]) => queries.map((r) => ({ ...r, expr: when(SOURCE_VAR, r.source, r.expr) }));

// ---------------------------------------------------------------- the load runner's live metrics

export const LOADTEST_JOB = 'job=~"$loadtest_job"';
export const loadtest = (metric: string, ...matchers: string[]) => sel(metric, LOADTEST_JOB, ...matchers);

export function loadtestErrorRatio(by: readonly string[] = []): string {
  const all = sumBy(by, rate(loadtest(LOADTEST.requests)));
  return `(${sumBy(by, rate(loadtest(LOADTEST.errors)))} or ${all} * 0) / ${all}`;
}

export const loadtestQuantile = (q: number, by: readonly string[] = []) => quantile(q, rate(loadtest(bucket(LOADTEST.latency))), by);
