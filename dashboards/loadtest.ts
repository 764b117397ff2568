import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { LABELS, LOADTEST } from '../lib/catalog.ts';
import { loadtest, loadtestErrorRatio, loadtestQuantile } from './exprs.ts';
import type { MonitoringConfig } from '../lib/monitoring.ts';
import { runbook } from './links.ts';
import { increase, rate, sumBy } from './promql.ts';
import {
  VOTES,
  VOTES_PER_SECOND,
  newDashboard,
  type DashboardHead,
  q,
  queryVariable,
  row,
  stat,
  steps,
  errorRatioBudget,
  latencyBudget,
  timeseries,
  units,
} from './toolkit.ts';

// Load test: the live metrics `myhero-ops loadtest run --metrics-port` serves
// while a run lasts, so a run can be watched next to the service it loads.
// Every panel splits by the app mode measured, as `loadtest compare` runs both.

const BY_MODE = [LABELS.mode];

export function loadtestDashboard(opts: MonitoringConfig, head: DashboardHead): dashboard.DashboardBuilder {
  const b = newDashboard(head, {
    description:
      'A running load test (myhero-ops loadtest run --metrics-port): votes per second attempted and accepted, latency percentiles, errors by class, voters and the queue backlog it observes.',
    tags: ['loadtest'],
    variables: [
      queryVariable({
        name: 'loadtest_job',
        label: 'Load runner job',
        description: 'Scrape job(s) of the load runner /metrics endpoint.',
        query: `label_values(${LOADTEST.requests}, job)`,
      }),
    ],
    from: 'now-15m',
  });
  // A run is short: refresh often enough to watch it.
  b.refresh('10s');

  b.withRow(row('Throughput'));
  b.withPanel(
    timeseries({
      title: 'Votes per second',
      description:
        'Votes the load runner attempted and those accepted (HTTP 200 and body "vote submitted"); the gap is failures, by class below.',
      unit: VOTES_PER_SECOND,
      queries: [
        q(sumBy(BY_MODE, rate(loadtest(LOADTEST.votesAttempted))), '{{mode}} attempted'),
        q(sumBy(BY_MODE, rate(loadtest(LOADTEST.votesAccepted))), '{{mode}} accepted'),
      ],
      min: 0,
      width: 16,
    }),
  );
  b.withPanel(
    stat({
      title: 'Accepted share',
      description: 'Accepted votes as a share of attempted ones over the last rate window. Below 99 % the target is refusing load.',
      unit: units.PercentUnit,
      queries: [
        q(`${sumBy(BY_MODE, rate(loadtest(LOADTEST.votesAccepted)))} / ${sumBy(BY_MODE, rate(loadtest(LOADTEST.votesAttempted)))}`, '{{mode}}', true),
      ],
      thresholds: steps('red', [0.95, 'orange'], [0.99, 'green']),
      background: true,
      sparkline: true,
      width: 4,
    }),
  );
  b.withPanel(
    stat({
      title: 'Votes accepted (time range)',
      description: 'Votes accepted over the dashboard time range: compare with what the target recorded (Accepted − recorded on the service dashboard).',
      unit: VOTES,
      queries: [q(sumBy(BY_MODE, increase(loadtest(LOADTEST.votesAccepted), '$__range')), '{{mode}}', true)],
      width: 4,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Requests per second',
      description: 'Every request of the mix the runner sent (votes, and the /v2/results and /options calls a UI makes).',
      unit: units.RequestsPerSecond,
      queries: [q(sumBy(BY_MODE, rate(loadtest(LOADTEST.requests))), '{{mode}}')],
      min: 0,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Voters',
      description: 'Concurrent voters (closed model) or in-flight requests the open model keeps at its fixed rate.',
      unit: units.Short,
      queries: [q(sumBy(BY_MODE, loadtest(LOADTEST.voters)), '{{mode}}')],
      min: 0,
      decimals: 0,
    }),
  );

  b.withRow(row('Latency and errors'));
  b.withPanel(
    timeseries({
      title: 'Latency percentiles',
      description:
        'p50, p90, p99 and p99.9 of request latency seen by the runner. With an open model (--rate) latency counts from the scheduled send time, so queueing in the runner is not hidden (no coordinated omission).',
      unit: units.Seconds,
      queries: [
        q(loadtestQuantile(0.5, BY_MODE), '{{mode}} p50'),
        q(loadtestQuantile(0.9, BY_MODE), '{{mode}} p90'),
        q(loadtestQuantile(0.99, BY_MODE), '{{mode}} p99'),
        q(loadtestQuantile(0.999, BY_MODE), '{{mode}} p99.9'),
      ],
      ...latencyBudget(opts.thresholds),
      links: [runbook(opts, 'MyheroLatencyP99High')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Errors by class',
      description:
        'Failed requests per second by mode and class: http_<status>, vote_failed (HTTP 200 "vote submission failed"), timeout, refused, reset, other, read (a failed /v2/results or /options call).',
      unit: units.RequestsPerSecond,
      queries: [q(sumBy([LABELS.mode, LABELS.errorClass], rate(loadtest(LOADTEST.errors))), '{{mode}} {{class}}')],
      min: 0,
      stack: true,
      links: [runbook(opts, 'MyheroErrorRatioHigh')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Error ratio',
      description: 'Failed requests as a share of all requests the runner sent.',
      unit: units.PercentUnit,
      queries: [q(loadtestErrorRatio(BY_MODE), '{{mode}}')],
      ...errorRatioBudget(opts.thresholds),
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Queue backlog seen by the runner',
      description:
        'Votes accepted but not yet recorded, as the runner observes it (queue mode): it should return to 0 after the run while ernst drains the queue.',
      unit: VOTES,
      queries: [q(`max by (${LABELS.mode}) (${loadtest(LOADTEST.backlog)})`, '{{mode}}')],
      min: 0,
      links: [runbook(opts, 'MyheroQueueBacklogGrowing')],
    }),
  );

  return b;
}
