import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { LABELS, PROMETHEUS, TWIN } from '../lib/catalog.ts';
import {
  JOB,
  NAMESPACE,
  SOURCES,
  SOURCE_VAR,
  gated,
  pipeline,
  queueBacklog,
  redErrorRatio,
  redLatency,
  redRate,
  twin,
  votesPerSecond,
  type RedQuery,
} from './exprs.ts';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import { runbook } from './links.ts';
import { increase, rate, sel, sumBy } from './promql.ts';
import {
  ALL_INCLUDING_ABSENT,
  VOTES,
  VOTES_PER_SECOND,
  customVariable,
  newDashboard,
  type DashboardHead,
  q,
  queryVariable,
  row,
  stat,
  stateTimeline,
  steps,
  errorRatioBudget,
  latencyBudget,
  timeseries,
  units,
  valueMappings,
  type Query,
} from './toolkit.ts';

// myhero service: RED per service and route from whichever source the
// deployment has (the twin's own metrics, or Traefik/Istio in front of a real
// myhero), then the vote pipeline: accepted vs recorded, queue, mode.

const redQueries = (reds: RedQuery[]): Query[] => gated(reds).map((r) => q(r.expr, r.legend));

export function myheroServiceDashboard(opts: MonitoringConfig, head: DashboardHead): dashboard.DashboardBuilder {
  const b = newDashboard(head, {
    description:
      'myhero RED (rate, errors, duration) per service and route, from the twin or the ingress (Traefik, Istio), and the vote pipeline: accepted vs recorded votes, queue backlog and drain, app mode.',
    tags: ['red'],
    variables: [
      customVariable({
        name: SOURCE_VAR,
        label: 'Metrics source',
        description:
          "Where RED metrics come from: 'twin' = the myhero twin's own metrics (lab, or an instrumented build); 'traefik' or 'istio' = the ingress in front of a real myhero, which exports none.",
        values: SOURCES,
        current: 'twin',
      }),
      queryVariable({
        name: 'namespace',
        label: 'Namespace',
        description: 'Kubernetes namespace of myhero (All also matches series without the label, e.g. the lab).',
        query: 'label_values(namespace)',
        allValue: ALL_INCLUDING_ABSENT,
      }),
      queryVariable({
        name: 'job',
        label: 'Job',
        description: "Scrape jobs of the twin's services (app, data, ernst): they filter the RED panels and targets up; the vote pipeline panels always span all three.",
        query: `label_values(${sel(TWIN.httpRequests, NAMESPACE)}, job)`,
      }),
    ],
  });

  b.withRow(row('RED per service and route'));
  b.withPanel(
    timeseries({
      title: 'Requests per second',
      description:
        "Requests answered per second, per service and route (twin) or per service and method (Traefik), per workload (Istio), as picked by the 'Metrics source' variable.",
      unit: units.RequestsPerSecond,
      queries: redQueries(redRate(opts.selectors)),
      min: 0,
      width: 24,
      links: [runbook(opts, 'MyheroAppDown')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Error ratio (5xx)',
      description:
        'Share of requests answered with HTTP 5xx. A refused vote in myhero is HTTP 200 with "vote submission failed": see Failed votes below.',
      unit: units.PercentUnit,
      queries: redQueries(redErrorRatio(opts.selectors)),
      ...errorRatioBudget(opts.thresholds),
      links: [runbook(opts, 'MyheroErrorRatioHigh')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'p99 latency',
      description: '99th percentile of the time to answer, per service and route, from the request-duration histogram.',
      unit: units.Seconds,
      queries: redQueries(redLatency(opts.selectors, 0.99)),
      ...latencyBudget(opts.thresholds),
      links: [runbook(opts, 'MyheroLatencyP99High'), runbook(opts, 'MyheroDataSaturated')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Median latency',
      description: 'Median (p50) time to answer, per service and route: the typical voter, against the p99 tail beside it.',
      unit: units.Seconds,
      queries: redQueries(redLatency(opts.selectors, 0.5)),
      min: 0,
      width: 24,
    }),
  );

  b.withRow(row('Votes'));
  b.withPanel(
    stat({
      title: 'App mode',
      description: `The vote path in force (${TWIN.appMode}): direct = the app posts every vote to data and waits; queue = the app publishes to MQTT and ernst drains into data.`,
      unit: units.NoUnit,
      queries: [q(`max by (${LABELS.mode}) (${twin(TWIN.appMode)}) == 1`, '{{mode}}', true)],
      text: 'name',
      width: 4,
      height: 4,
    }),
  );
  b.withPanel(
    stat({
      title: 'Accepted − recorded (time range)',
      description:
        'Votes answered "vote submitted" minus votes appended to votes.txt over the dashboard time range. In queue mode this is the backlog still to drain; once drained it must be 0, or votes were lost.',
      unit: VOTES,
      queries: [
        q(
          `${sumBy([], increase(pipeline(TWIN.votesAccepted), '$__range'))} - ${sumBy([], increase(pipeline(TWIN.votesRecorded), '$__range'))}`,
          'accepted − recorded',
          true,
        ),
      ],
      thresholds: steps('green', [1, 'orange']),
      width: 4,
      height: 4,
      links: [runbook(opts, 'MyheroVotesLost')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Queue backlog now',
      description: `Votes published to MQTT by the app but not yet taken off by ernst (${TWIN.votesPublished} − ${TWIN.votesProcessed}).`,
      unit: VOTES,
      queries: [q(queueBacklog(), 'backlog', true)],
      thresholds: steps('green', [100, 'orange'], [1000, 'red']),
      width: 4,
      height: 4,
      links: [runbook(opts, 'MyheroQueueBacklogGrowing')],
    }),
  );
  b.withPanel(
    stateTimeline({
      title: 'Targets up',
      description: 'Whether Prometheus could scrape each twin service target (up), per job and instance: a service down stops its counters, so read the vote panels with it.',
      unit: units.NoUnit,
      queries: [q(`max by (job, instance) (${sel(PROMETHEUS.up, { ...JOB, ...NAMESPACE })})`, '{{job}} {{instance}}')],
      mappings: valueMappings({ 0: ['DOWN', 'red'], 1: ['UP', 'green'] }),
      thresholds: steps('red', [1, 'green']),
      width: 12,
      height: 4,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Votes accepted vs recorded',
      description:
        'Votes per second the app accepted ("vote submitted") and data durably recorded. In direct mode the two lines coincide; in queue mode recorded lags while the queue fills and catches up as ernst drains it.',
      unit: VOTES_PER_SECOND,
      queries: [q(votesPerSecond(TWIN.votesAccepted), 'accepted'), q(votesPerSecond(TWIN.votesRecorded), 'recorded')],
      min: 0,
      links: [runbook(opts, 'MyheroVotesLost')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Failed votes',
      description: `Votes answered "vote submission failed" (HTTP 200), by reason (${TWIN.votesFailed}): in direct mode, data too slow or down.`,
      unit: VOTES_PER_SECOND,
      queries: [q(votesPerSecond(TWIN.votesFailed, [LABELS.reason]), '{{reason}}')],
      min: 0,
      links: [runbook(opts, 'MyheroErrorRatioHigh')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Queue backlog',
      description:
        'Votes waiting in the queue (published − processed). A counter difference across two processes: a restarted app or ernst resets its counter, so trust the fill/drain rates beside it across restarts.',
      unit: VOTES,
      queries: [q(queueBacklog(), 'backlog')],
      min: 0,
      links: [runbook(opts, 'MyheroQueueBacklogGrowing')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Queue fill and drain',
      description:
        'Votes per second the app publishes (fill), ernst takes off and data acknowledges (drain), and ernst posts to data that failed and will be retried. Fill above drain = growing backlog.',
      unit: VOTES_PER_SECOND,
      queries: [
        q(votesPerSecond(TWIN.votesPublished), 'fill (published)'),
        q(votesPerSecond(TWIN.votesProcessed), 'drain (processed)'),
        q(sumBy([], rate(pipeline(TWIN.ernstRetries))), 'ernst retries'),
      ],
      min: 0,
    }),
  );

  return b;
}
