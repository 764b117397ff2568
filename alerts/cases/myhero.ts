import { KSM, PROMETHEUS, TWIN } from '../../lib/catalog.ts';
import type { RuleContext } from '../rule.ts';
import { bucket } from '../../lib/promql.ts';
import { humanizeDuration, humanizePercentage } from '../format.ts';
import { input, sampleNamespace, type AlertCase, type SeriesInput } from './case.ts';

export function myheroCases({ selectors: s, thresholds: t }: RuleContext): AlertCase[] {
  const namespace = sampleNamespace(s);
  const app = { job: s.jobs.app, namespace, instance: '10.42.0.7:5000', service: 'app' };
  const data = { job: s.jobs.data, namespace, instance: '10.42.0.8:5000', service: 'data' };
  const ernst = { job: s.jobs.ernst, namespace, instance: '10.42.0.9:9100', service: 'ernst' };
  const ksm = { job: s.jobs.kubeStateMetrics, namespace, instance: '10.42.0.3:8080' };

  // Errors: 1000 requests a minute, a share of them 5xx or "vote submission failed".
  const errorCase = (name: string, ratio: number, expected: boolean): AlertCase => {
    const failing = 1000 * ratio;
    const vote = { ...app, route: '/vote/:hero', method: 'POST' };
    return {
      alert: 'MyheroErrorRatioHigh',
      name,
      series: [
        input(TWIN.httpRequests, { ...vote, code: '200' }, `0+${1000 - failing / 2}x10`),
        input(TWIN.httpRequests, { ...vote, code: '503' }, `0+${failing / 2}x10`),
        input(TWIN.votesFailed, { ...app, mode: 'direct', reason: 'data_timeout' }, `0+${failing / 2}x10`),
      ],
      evalTime: '10m',
      expect: expected
        ? [
            {
              labels: { job: app.job, namespace, severity: 'critical' },
              summary: `${humanizePercentage(ratio)} of myhero requests fail in ${namespace}`,
              description: `${humanizePercentage(ratio)} of the requests to ${app.job} in namespace ${namespace} have failed (HTTP 5xx or "vote submission failed") for 5 minutes, above ${humanizePercentage(t.errorRatio)}: votes are being refused.`,
            },
          ]
        : [],
    };
  };

  // A latency histogram: `perMinute` observations, all between `low` and `high` seconds.
  const histogram = (labels: Record<string, string>, low: number, high: number, perMinute: number): SeriesInput[] =>
    [
      [String(low / 2), 0],
      [String(low), 0],
      [String(high), perMinute],
      ['+Inf', perMinute],
    ].map(([le, n]) => input(bucket(TWIN.httpDuration), { ...labels, le: String(le) }, `0+${n}x20`));
  /** histogram_quantile(0.99) of observations spread evenly through the bucket (low, high]. */
  const p99Between = (low: number, high: number) => low + (high - low) * 0.99;

  const L = t.appLatencyP99Seconds;
  const D = t.dataLatencyP99Seconds;
  const voteRoute = { route: '/vote/:hero', method: 'POST', code: '200' };
  const health = { ...app, route: '/health', method: 'GET', code: '200' };

  const lostShare = 2 * t.lostVoteRatio;
  const queueMode = (values = '1x50') => [input(TWIN.appMode, { ...app, mode: 'queue' }, values), input(TWIN.appMode, { ...app, mode: 'direct' }, '0x50')];
  const ernstUp = (values = '1x50') => input(PROMETHEUS.up, ernst, values);
  // Queue mode at 10 votes/s; ernst keeps up, then its pod is gone from minute 10 on
  // (no target: its series end with a staleness marker): votes wait in the queue, data records nothing more.
  const ernstGone = [
    ...queueMode(),
    input(TWIN.votesAccepted, { ...app, mode: 'queue' }, '0+600x50'),
    input(TWIN.votesPublished, { ...app, mode: 'queue' }, '0+600x50'),
    input(TWIN.votesProcessed, ernst, '0+600x10 stale'),
    ernstUp('1x10 stale'),
    input(TWIN.votesRecorded, data, '0+600x10 6000x40'),
  ];
  const backlog = (perSecond: number) => ({
    labels: { namespace, severity: 'warning', alertgroup: 'MyheroQueue' },
    summary: `The myhero vote queue grows in ${namespace}`,
    description: `For 10 minutes the app in namespace ${namespace} has published ${perSecond} votes/s more than ernst takes off the queue: votes are accepted but not counted yet, and the broker keeps them in memory.`,
  });
  // The alert both app-down cases (scrape failing, readiness failing) expect.
  const appDown = {
    labels: { namespace, severity: 'critical' },
    summary: `myhero-app is down in namespace ${namespace}`,
    description: `No myhero-app target in namespace ${namespace} has answered a scrape, or no app pod has passed its readiness probe, for 2 minutes: users cannot vote.`,
  };
  // The alert both loss cases (direct and queue mode) expect.
  const votesLost = {
    labels: { namespace, severity: 'critical' },
    summary: `${humanizePercentage(lostShare)} of accepted votes were lost in ${namespace}`,
    description: `Over the last 15 minutes ${humanizePercentage(lostShare)} of the votes myhero-app accepted in namespace ${namespace} were neither recorded by data nor waiting in the queue (above ${humanizePercentage(t.lostVoteRatio)}): users were told "vote submitted" for votes that will never count.`,
  };

  return [
    {
      alert: 'MyheroAppDown',
      name: 'fires when every app target fails its scrape for 2 m',
      series: [input(PROMETHEUS.up, app, '1 0x5')],
      evalTime: '4m',
      expect: [appDown],
    },
    {
      alert: 'MyheroAppDown',
      name: 'fires when no app pod is available (readiness probe failing)',
      series: [
        input(PROMETHEUS.up, app, '1x6'),
        input(KSM.deploymentAvailableReplicas, { ...ksm, deployment: s.appDeployment }, '1 0x5'),
      ],
      evalTime: '4m',
      expect: [appDown],
    },
    {
      alert: 'MyheroAppDown',
      name: 'does not fire while one of two app targets answers, nor on a short blip',
      series: [
        input(PROMETHEUS.up, app, '1x3 0 1x3'),
        input(PROMETHEUS.up, { ...app, instance: '10.42.1.7:5000' }, '0x7'),
        input(KSM.deploymentAvailableReplicas, { ...ksm, deployment: s.appDeployment }, '1x7'),
      ],
      evalTime: '5m',
      expect: [],
    },
    errorCase(`fires at twice the ${humanizePercentage(t.errorRatio)} threshold for 5 m`, 2 * t.errorRatio, true),
    errorCase(`does not fire at half the ${humanizePercentage(t.errorRatio)} threshold`, t.errorRatio / 2, false),
    {
      alert: 'MyheroLatencyP99High',
      name: `fires when the p99 of votes is above ${L} s for 10 m, whatever the fast probes do`,
      series: [...histogram({ ...app, ...voteRoute }, L, 2 * L, 100), ...histogram(health, L / 4, L / 2, 10_000)],
      evalTime: '15m',
      expect: [
        {
          labels: { job: app.job, namespace, severity: 'warning' },
          summary: `myhero-app p99 latency is ${humanizeDuration(p99Between(L, 2 * L))} in ${namespace}`,
          description: `The 99th percentile of ${app.job} answers in namespace ${namespace} has been above ${L} s for 10 minutes (${humanizeDuration(p99Between(L, 2 * L))} now): voters wait, and in direct mode votes near the data timeout fail.`,
        },
      ],
    },
    {
      alert: 'MyheroLatencyP99High',
      name: `does not fire when votes answer within ${L} s`,
      series: histogram({ ...app, ...voteRoute }, L / 2, L, 100),
      evalTime: '15m',
      expect: [],
    },
    {
      alert: 'MyheroQueueBacklogGrowing',
      name: 'fires when ernst takes 8 of the 10 votes/s published, for 10 m',
      series: [
        input(TWIN.votesPublished, { ...app, mode: 'queue' }, '0+600x20'),
        input(TWIN.votesProcessed, ernst, '0+480x20'),
      ],
      evalTime: '15m',
      expect: [backlog(2)],
    },
    {
      alert: 'MyheroQueueBacklogGrowing',
      name: 'fires when ernst has been gone for 20 m: every published vote waits',
      series: ernstGone,
      evalTime: '30m',
      expect: [backlog(10)],
    },
    {
      alert: 'MyheroQueueNoConsumer',
      name: 'fires when ernst is gone in queue mode',
      series: ernstGone,
      evalTime: '16m',
      expect: [
        {
          labels: { namespace, severity: 'critical', alertgroup: 'MyheroQueue' },
          summary: `The myhero vote queue has no consumer in ${namespace}`,
          description: `myhero-app in namespace ${namespace} runs in queue mode, but no myhero-ernst target has answered for 2 minutes: votes are accepted and published, and none is counted until ernst is back.`,
        },
      ],
    },
    {
      alert: 'MyheroQueueNoConsumer',
      name: 'does not fire while ernst answers, nor in direct mode without ernst, nor on a short restart',
      series: [
        ...queueMode(),
        ernstUp('1x5 0 1x10'),
        input(TWIN.appMode, { ...app, namespace: 'direct-ns', mode: 'direct' }, '1x20'),
        input(TWIN.appMode, { ...app, namespace: 'direct-ns', mode: 'queue' }, '0x20'),
      ],
      evalTime: '12m',
      expect: [],
    },
    {
      alert: 'MyheroQueueBacklogGrowing',
      name: 'does not fire when ernst keeps up, nor when growth lasts under 10 m',
      series: [
        input(TWIN.votesPublished, { ...app, mode: 'queue' }, '0+600x20'),
        input(TWIN.votesProcessed, ernst, '0+480x5 2400+720x14'),
      ],
      evalTime: '15m',
      expect: [],
    },
    {
      alert: 'MyheroVotesLost',
      name: `fires in direct mode when ${humanizePercentage(lostShare)} of accepted votes are never recorded`,
      series: [
        input(TWIN.votesAccepted, { ...app, mode: 'direct' }, '0+600x30'),
        input(TWIN.votesRecorded, data, `0+${600 * (1 - lostShare)}x30`),
      ],
      evalTime: '20m',
      expect: [votesLost],
    },
    {
      alert: 'MyheroVotesLost',
      name: 'fires in queue mode when votes vanish between ernst and data',
      series: [
        ...queueMode(),
        ernstUp(),
        input(TWIN.votesAccepted, { ...app, mode: 'queue' }, '0+600x30'),
        input(TWIN.votesPublished, { ...app, mode: 'queue' }, '0+600x30'),
        input(TWIN.votesProcessed, ernst, '0+600x30'),
        input(TWIN.votesRecorded, data, `0+${600 * (1 - lostShare)}x30`),
      ],
      evalTime: '20m',
      expect: [votesLost],
    },
    {
      alert: 'MyheroVotesLost',
      name: 'does not fire while the difference is still waiting in a growing queue',
      series: [
        ...queueMode(),
        ernstUp(),
        input(TWIN.votesAccepted, { ...app, mode: 'queue' }, '0+600x30'),
        input(TWIN.votesPublished, { ...app, mode: 'queue' }, '0+600x30'),
        input(TWIN.votesProcessed, ernst, '0+420x30'),
        input(TWIN.votesRecorded, data, '0+420x30'),
      ],
      evalTime: '20m',
      expect: [],
    },
    {
      alert: 'MyheroVotesLost',
      name: 'does not fire 12 m after ernst is gone: the votes wait in the queue (MyheroQueueNoConsumer speaks)',
      series: ernstGone,
      evalTime: '22m',
      expect: [],
    },
    {
      alert: 'MyheroVotesLost',
      name: 'does not fire once ernst has been gone for the whole window: all published votes are queued',
      series: ernstGone,
      evalTime: '35m',
      expect: [],
    },
    {
      alert: 'MyheroDataSaturated',
      name: `fires in direct mode when data's vote p99 is above ${D} s for 5 m`,
      series: [
        ...histogram({ ...data, ...voteRoute }, D, 2 * D, 100),
        input(TWIN.appMode, { ...app, mode: 'direct' }, '1x20'),
        input(TWIN.appMode, { ...app, mode: 'queue' }, '0x20'),
      ],
      evalTime: '10m',
      expect: [
        {
          labels: { job: data.job, namespace, severity: 'warning' },
          summary: `myhero-data is saturated in ${namespace} (direct mode)`,
          description: `In direct mode, the 99th percentile of votes stored by ${data.job} in namespace ${namespace} has been above ${D} s for 5 minutes (${humanizeDuration(p99Between(D, 2 * D))} now): the data tier cannot keep up and the app's votes start to fail. Queue mode absorbs such bursts.`,
        },
      ],
    },
    {
      alert: 'MyheroDataSaturated',
      name: 'does not fire in queue mode, where ernst paces data',
      series: [
        ...histogram({ ...data, ...voteRoute }, D, 2 * D, 100),
        input(TWIN.appMode, { ...app, mode: 'direct' }, '0x20'),
        input(TWIN.appMode, { ...app, mode: 'queue' }, '1x20'),
      ],
      evalTime: '10m',
      expect: [],
    },
  ];
}
