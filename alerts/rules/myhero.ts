import { KSM, PROMETHEUS, TWIN } from '../../lib/catalog.ts';
import { humanizePercentage } from '../format.ts';
import type { RuleContext, RuleGroup } from '../rule.ts';
import { jobMatchers, ksmMatchers } from '../../lib/monitoring.ts';
import { bucket, increase, orZero, quantile, rate, sel, sumBy, type Matchers } from '../../lib/promql.ts';

// The myhero service, from its own RED metrics and vote counters (names in
// lib/catalog.ts TWIN) and kube-state-metrics for "is any app pod Ready".
// Evaluated every 30 s; rates use 5 m windows so one slow scrape cannot flap them.

/** Routes that are not user traffic: probes and scrapes would dilute the latency of votes. */
const NOT_USER_TRAFFIC = '/health|/metrics';

export function myheroRules(ctx: RuleContext): RuleGroup {
  const s = ctx.selectors;
  const t = ctx.thresholds;
  const app = jobMatchers(s, 'app');
  const data = jobMatchers(s, 'data');
  const ernst = jobMatchers(s, 'ernst');
  const rate5m = (selector: string) => rate(selector, '5m');
  const byNs = (expr: string) => sumBy(['namespace'], expr);

  // Votes waiting in the queue grow by what the app publishes minus what ernst
  // takes off. In direct mode neither counter moves; when ernst has no series at
  // all (gone), the whole publish rate counts as growth.
  const published = byNs(rate5m(sel(TWIN.votesPublished, app)));
  const processed = byNs(rate5m(sel(TWIN.votesProcessed, ernst)));

  // Over 15 m: accepted − recorded − (queue growth) = votes neither counted nor waiting.
  // Without a consumer (no ernst series), every published vote is still in the queue.
  const increase15m = (selector: string) => byNs(increase(selector, '15m'));
  const accepted15 = increase15m(sel(TWIN.votesAccepted, app));
  const recorded15 = increase15m(sel(TWIN.votesRecorded, data));
  const published15 = increase15m(sel(TWIN.votesPublished, app));
  const queueGrowth15 = `(${published15} - ${orZero(increase15m(sel(TWIN.votesProcessed, ernst)), published15)})`;

  // Queue mode, and whether its consumer answers. While ernst is gone or was gone
  // within the 15 m window, its counter ends mid-window and increase() extrapolates
  // it: the loss cannot be told from backlog then, and MyheroQueueNoConsumer speaks.
  const queueMode = `(max by (namespace) (${sel(TWIN.appMode, { ...app, mode: 'queue' })}) == 1)`;
  const consumerUp = `max by (namespace) (${sel(PROMETHEUS.up, ernst)})`;
  const consumerUpAllWindow = `(min_over_time((${consumerUp} or on (namespace) ${queueMode} * 0)[15m:1m]) == 1)`;

  const p99 = (matchers: Matchers) => quantile(0.99, rate5m(sel(bucket(TWIN.httpDuration), matchers)), ['namespace', 'job']);

  return {
    name: 'myhero-ops.myhero',
    interval: '30s',
    alerts: [
      {
        name: 'MyheroAppDown',
        expr: [
          `${byNs(sel(PROMETHEUS.up, app))} == 0`,
          `${byNs(sel(KSM.deploymentAvailableReplicas, { ...ksmMatchers(s), deployment: s.appDeployment }))} == 0`,
        ].join('\nor\n'),
        for: '2m',
        severity: 'critical',
        summary: 'myhero-app is down in namespace {{ $labels.namespace }}',
        description:
          'No myhero-app target in namespace {{ $labels.namespace }} has answered a scrape, or no app pod has passed its readiness probe, for 2 minutes: users cannot vote.',
      },
      {
        name: 'MyheroErrorRatioHigh',
        expr: [
          `(`,
          `  sum by (namespace, job) (${rate5m(sel(TWIN.httpRequests, { ...app, code: { re: '5..' } }))} or ${rate5m(sel(TWIN.votesFailed, app))})`,
          `/`,
          `  sum by (namespace, job) (${rate5m(sel(TWIN.httpRequests, app))})`,
          `) > ${t.errorRatio}`,
        ].join('\n'),
        for: '5m',
        severity: 'critical',
        summary: '{{ $value | humanizePercentage }} of myhero requests fail in {{ $labels.namespace }}',
        description: `{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} in namespace {{ $labels.namespace }} have failed (HTTP 5xx or "vote submission failed") for 5 minutes, above ${humanizePercentage(t.errorRatio)}: votes are being refused.`,
      },
      {
        name: 'MyheroLatencyP99High',
        expr: `${p99({ ...app, route: { notRe: NOT_USER_TRAFFIC } })} > ${t.appLatencyP99Seconds}`,
        for: '10m',
        severity: 'warning',
        summary: 'myhero-app p99 latency is {{ $value | humanizeDuration }} in {{ $labels.namespace }}',
        description: `The 99th percentile of {{ $labels.job }} answers in namespace {{ $labels.namespace }} has been above ${t.appLatencyP99Seconds} s for 10 minutes ({{ $value | humanizeDuration }} now): voters wait, and in direct mode votes near the data timeout fail.`,
      },
      {
        name: 'MyheroQueueNoConsumer',
        family: 'MyheroQueue',
        expr: [queueMode, 'unless on (namespace)', `(${consumerUp} == 1)`].join('\n'),
        for: '2m',
        severity: 'critical',
        summary: 'The myhero vote queue has no consumer in {{ $labels.namespace }}',
        description:
          'myhero-app in namespace {{ $labels.namespace }} runs in queue mode, but no myhero-ernst target has answered for 2 minutes: votes are accepted and published, and none is counted until ernst is back.',
      },
      {
        name: 'MyheroQueueBacklogGrowing',
        family: 'MyheroQueue',
        expr: `(${published} - ${orZero(processed, published)}) > 0`,
        for: '10m',
        severity: 'warning',
        summary: 'The myhero vote queue grows in {{ $labels.namespace }}',
        description:
          'For 10 minutes the app in namespace {{ $labels.namespace }} has published {{ $value | humanize }} votes/s more than ernst takes off the queue: votes are accepted but not counted yet, and the broker keeps them in memory.',
      },
      {
        name: 'MyheroVotesLost',
        expr: [
          `(`,
          `  ${accepted15}`,
          `  - ${recorded15}`,
          `  - ${orZero(queueGrowth15, accepted15)}`,
          `)`,
          `/ ${accepted15}`,
          `> ${t.lostVoteRatio}`,
          `unless on (namespace)`,
          `(${queueMode} unless on (namespace) ${consumerUpAllWindow})`,
        ].join('\n'),
        for: '5m',
        severity: 'critical',
        summary: '{{ $value | humanizePercentage }} of accepted votes were lost in {{ $labels.namespace }}',
        description: `Over the last 15 minutes {{ $value | humanizePercentage }} of the votes myhero-app accepted in namespace {{ $labels.namespace }} were neither recorded by data nor waiting in the queue (above ${humanizePercentage(t.lostVoteRatio)}): users were told "vote submitted" for votes that will never count.`,
      },
      {
        name: 'MyheroDataSaturated',
        expr: [
          `${p99({ ...data, route: { re: '/vote.*' } })} > ${t.dataLatencyP99Seconds}`,
          `and on (namespace)`,
          `(max by (namespace) (${sel(TWIN.appMode, { ...app, mode: 'direct' })}) == 1)`,
        ].join('\n'),
        for: '5m',
        severity: 'warning',
        summary: 'myhero-data is saturated in {{ $labels.namespace }} (direct mode)',
        description: `In direct mode, the 99th percentile of votes stored by {{ $labels.job }} in namespace {{ $labels.namespace }} has been above ${t.dataLatencyP99Seconds} s for 5 minutes ({{ $value | humanizeDuration }} now): the data tier cannot keep up and the app's votes start to fail. Queue mode absorbs such bursts.`,
      },
    ],
  };
}
