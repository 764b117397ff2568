import { ISTIO, KSM, LABELS, LOADTEST, TRAEFIK, TWIN } from '../lib/catalog.ts';
import { workloadMatchers, type Selectors } from '../lib/monitoring.ts';
import { bucket, orZero, quantile, rate, sel, sumBy, when, type Matchers, type Metric } from './promql.ts';

// The PromQL expressions more than one dashboard shows (the game day page
// repeats pieces of the service and workloads pages), written once. Job names
// and the workload pattern come from the monitoring config (lib/monitoring.ts).

export const NAMESPACE = { namespace: { re: '$namespace' } } as const satisfies Matchers;
export const JOB = { job: { re: '$job' } } as const satisfies Matchers;

/** A kube-state-metrics series of the chosen namespaces, from the configured ksm job. */
export const ksm = (s: Selectors, metric: Metric, matchers: Matchers = {}) => sel(metric, { job: s.jobs.kubeStateMetrics, ...NAMESPACE, ...matchers });

/** `tier` from a Deployment named myhero-<tier> or a pod myhero-<tier>-<hash>-<id>. */
export const tierOfDeployment = (expr: string) => `label_replace(${expr}, "tier", "$1", "deployment", "myhero-(.*)")`;
export const tierOfPod = (expr: string) => `label_replace(${expr}, "tier", "$1", "pod", "myhero-([a-z]+)-.*")`;

// ---------------------------------------------------------------- kube-state-metrics

export const desiredPerTier = (s: Selectors) => tierOfDeployment(sumBy(['deployment'], ksm(s, KSM.deploymentSpecReplicas, workloadMatchers(s, 'deployment'))));
export const availablePerTier = (s: Selectors) => tierOfDeployment(sumBy(['deployment'], ksm(s, KSM.deploymentAvailableReplicas, workloadMatchers(s, 'deployment'))));
export const readyPodsPerTier = (s: Selectors) => sumBy(['tier'], tierOfPod(ksm(s, KSM.podStatusReady, { ...workloadMatchers(s, 'pod'), condition: 'true' })));
export const hpaReplicas = (s: Selectors, metric: Metric) => `max by (horizontalpodautoscaler) (${ksm(s, metric, workloadMatchers(s, 'horizontalpodautoscaler'))})`;
/** Nodes carry no namespace: only ksm's job selects them. */
export const readyNodes = (s: Selectors) => sel(KSM.nodeStatusCondition, { job: s.jobs.kubeStateMetrics, condition: 'Ready', status: 'true' });

// ---------------------------------------------------------------- the twin's RED metrics and vote counters

export const twin = (metric: Metric, matchers: Matchers = {}) => sel(metric, { ...JOB, ...NAMESPACE, ...matchers });

/** The share of `all` that `failed` is: 0 rather than no data while nothing fails. */
const shareOrZero = (failed: string, all: string) => `${orZero(failed, all)} / ${all}`;

/** Share of requests answered 5xx; 0 rather than no data while nothing fails. */
export function twinErrorRatio(by: readonly string[], matchers: Matchers = {}): string {
  const all = sumBy(by, rate(twin(TWIN.httpRequests, matchers)));
  const failed = sumBy(by, rate(twin(TWIN.httpRequests, { [LABELS.code]: { re: '5..' }, ...matchers })));
  return shareOrZero(failed, all);
}

export const twinQuantile = (q: number, by: readonly string[], matchers: Matchers = {}) =>
  quantile(q, rate(twin(bucket(TWIN.httpDuration), matchers)), by);

/**
 * The vote pipeline's counters (accepted, recorded, published, processed, ernst's
 * retries) come from the app, data and ernst together: `$job` does not filter
 * them, as picking one service would empty every panel comparing two of them.
 * `$namespace` still does.
 */
export const pipeline = (metric: Metric, matchers: Matchers = {}) => sel(metric, { ...NAMESPACE, ...matchers });

export const votesPerSecond = (counter: Metric, by: readonly string[] = []) => sumBy(by, rate(pipeline(counter)));

/**
 * Votes in the queue: published by the app minus taken off by ernst. A counter
 * difference across two processes: exact until one of them restarts (its
 * counter starts again from 0), which the fill/drain rates do not suffer from.
 */
export const queueBacklog = () => `clamp_min(${sumBy([], pipeline(TWIN.votesPublished))} - ${sumBy([], pipeline(TWIN.votesProcessed))}, 0)`;

// ---------------------------------------------------------------- ingress metrics, for deployments without the twin

/** Traefik v2 names services `<namespace>-<service>-<port>@<provider>`. */
const traefikServices = (s: Selectors): Matchers => ({ service: { re: `($namespace)-(?:${s.workloadPattern})-[^-@]+@.+` } });
const traefikTier = (expr: string) => `label_replace(${expr}, "service", "$1", "service", "(?:.*-)?myhero-([a-z]+)-[^-@]+@.*")`;
const istioWorkloads = (s: Selectors): Matchers => ({
  reporter: 'destination',
  destination_workload_namespace: { re: '$namespace' },
  destination_workload: { re: s.workloadPattern },
});
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
export function redRate(s: Selectors): RedQuery[] {
  return [
    { source: 'twin', expr: sumBy(['service', 'route'], rate(twin(TWIN.httpRequests))), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(sumBy(['service', 'method'], rate(sel(TRAEFIK.requests, traefikServices(s))))),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(sumBy(['destination_workload'], rate(sel(ISTIO.requests, istioWorkloads(s))))),
      legend: '{{service}}',
    },
  ];
}

export function redErrorRatio(s: Selectors): RedQuery[] {
  const ratio = (metric: Metric, codeLabel: string, by: string[], matchers: Matchers) => {
    const all = sumBy(by, rate(sel(metric, matchers)));
    const failed = sumBy(by, rate(sel(metric, { ...matchers, [codeLabel]: { re: '5..' } })));
    return shareOrZero(failed, all);
  };
  return [
    { source: 'twin', expr: twinErrorRatio(['service', 'route']), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(ratio(TRAEFIK.requests, 'code', ['service', 'method'], traefikServices(s))),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(ratio(ISTIO.requests, 'response_code', ['destination_workload'], istioWorkloads(s))),
      legend: '{{service}}',
    },
  ];
}

/** Latency quantile in seconds (Istio reports milliseconds). */
export function redLatency(s: Selectors, q: number): RedQuery[] {
  return [
    { source: 'twin', expr: twinQuantile(q, ['service', 'route']), legend: '{{service}} {{route}}' },
    {
      source: 'traefik',
      expr: traefikTier(quantile(q, rate(sel(TRAEFIK.durationBucket, traefikServices(s))), ['service', 'method'])),
      legend: '{{service}} {{method}}',
    },
    {
      source: 'istio',
      expr: istioTier(`${quantile(q, rate(sel(ISTIO.durationBucket, istioWorkloads(s))), ['destination_workload'])} / 1000`),
      legend: '{{service}}',
    },
  ];
}

/** Each source's query, silenced unless `$source` selects it. */
export const gated = (queries: RedQuery[]) => queries.map((r) => ({ ...r, expr: when(SOURCE_VAR, r.source, r.expr) }));

// ---------------------------------------------------------------- the load runner's live metrics

const LOADTEST_JOB = { job: { re: '$loadtest_job' } } as const satisfies Matchers;
export const loadtest = (metric: Metric, matchers: Matchers = {}) => sel(metric, { ...LOADTEST_JOB, ...matchers });

export function loadtestErrorRatio(by: readonly string[] = []): string {
  const all = sumBy(by, rate(loadtest(LOADTEST.requests)));
  return shareOrZero(sumBy(by, rate(loadtest(LOADTEST.errors))), all);
}

export const loadtestQuantile = (q: number, by: readonly string[] = []) => quantile(q, rate(loadtest(bucket(LOADTEST.latency))), by);
