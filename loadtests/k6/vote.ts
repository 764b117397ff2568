// k6 vote load test against myhero-app: the scenarios, checks and accounting of
// `myhero-ops loadtest run`, for people who run k6 (locally, or distributed with
// k6-operator). Build with `npm run k6:build`, then
//   k6 run dist/k6/vote.js -e TARGET=http://127.0.0.1:15001 -e MYHERO_APP_KEY=...
// Settings are env vars (loadtests/k6/README.md). The key is never printed.
// The rules are the runner's own modules (settings parsers and defaults, the request
// mix, what an answer counts as, thresholds, reconciliation), which esbuild inlines;
// this folder holds only what is k6's: reading k6's answers, options and summary.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { K6 } from '../../lib/catalog.ts';
import { KEY_HEADER } from '../../lib/defaults.ts';
import { heroPicker, rng, routePicker, type Route } from '../mix.ts';
import { classifyRead, classifyVote, type Outcome } from './lib/classify.ts';
import { k6Options, settingsFromEnv } from './lib/options.ts';
import { DRAIN_POLL_SECONDS, DrainWatch, totalVotes } from './lib/reconcile.ts';
import { runFromSummary, summaryText, type K6SummaryData } from './lib/summary.ts';
import { parseOptions, setupProblem } from './lib/target.ts';

const settings = settingsFromEnv(__ENV);
export const options = k6Options(settings);

const attempted = new Counter(K6.votesAttempted);
const accepted = new Counter(K6.votesAccepted);
const warmupAccepted = new Counter(K6.warmupVotesAccepted);
const failed = new Counter(K6.votesFailed);
const failedRate = new Rate(K6.voteFailedRate);
const voteErrors = new Counter(K6.voteErrors);
const readErrors = new Counter(K6.readErrors);
const requests = new Counter(K6.requests);
const voteDuration = new Trend(K6.voteDuration, true);
const recordedDelta = new Gauge(K6.recordedDelta);
const drainSeconds = new Gauge(K6.drainSeconds);
const drainElapsed = new Gauge(K6.drainElapsedSeconds);
const drainStable = new Gauge(K6.drainStableSeconds);
const drainReadError = new Gauge(K6.drainReadError);
// handleSummary() cannot see setup()'s data (grafana/k6#2088), only metrics: this one says setup completed.
const setupCompleted = new Counter(K6.setupCompleted);

const params = (route: Route) => ({
  headers: { [KEY_HEADER]: __ENV.MYHERO_APP_KEY ?? '' },
  timeout: settings.timeout.text,
  tags: { route },
});
const read = (route: 'results' | 'options') =>
  http.get(`${settings.target}${route === 'results' ? '/v2/results' : '/options'}`, params(route));

export interface SetupData {
  heroes: string[];
  recordedBefore: number;
  /** When the load starts (ms since the epoch): the warm-up is measured from here. */
  loadStartsAt: number;
}

/** Before the load: the target answers, the key is right, the heroes to vote for, the recorded count. */
export function setup(): SetupData {
  const opts = read('options');
  const problem = setupProblem(settings.target, 'GET /options', opts);
  if (problem) throw new Error(problem);
  const heroes = parseOptions(opts.body);
  const results = read('results');
  const resultsProblem = setupProblem(settings.target, 'GET /v2/results', results);
  if (resultsProblem) throw new Error(resultsProblem);
  const recordedBefore = totalVotes(results.body);
  setupCompleted.add(1);
  return { heroes, recordedBefore, loadStartsAt: Date.now() };
}

// Each VU draws its own requests; with SEED the sequence is replayable.
let pickers: { route: () => Route; hero: () => string } | undefined;

/** One request of the mix, as the runner's voters send them. */
export default function (data: SetupData): void {
  if (!pickers) {
    const random = settings.seed === undefined ? Math.random : rng(settings.seed + __VU);
    pickers = { route: routePicker(settings.mix, random), hero: heroPicker(data.heroes, settings.distribution, random, settings.heroWeights) };
  }
  const measured = Date.now() - data.loadStartsAt >= settings.warmup.seconds * 1000;
  const route = pickers.route();
  if (route === 'vote') {
    const started = Date.now();
    const res = http.post(`${settings.target}/vote/${encodeURIComponent(pickers.hero())}`, null, params('vote'));
    const outcome = classifyVote(res);
    if (measured) {
      // Time to the answer including connecting; wall time when there was no answer.
      const t = res.timings;
      voteDuration.add(res.status !== 0 ? t.blocked + t.connecting + t.tls_handshaking + t.duration : Date.now() - started);
      countVote(outcome);
      check(res, { 'vote accepted': () => outcome === 'accepted' });
    } else if (outcome === 'accepted') {
      warmupAccepted.add(1);
    }
  } else {
    const res = read(route);
    const ok = classifyRead(res) === 'accepted';
    if (measured) {
      requests.add(1);
      readErrors.add(ok ? 0 : 1);
      check(res, { [`${route} answered`]: () => ok });
    }
  }
  if (settings.model.kind === 'closed' && settings.model.think.seconds > 0) sleep(settings.model.think.seconds);
}

function countVote(outcome: Outcome): void {
  requests.add(1);
  attempted.add(1);
  const ok = outcome === 'accepted';
  // Adding 0 keeps every counter in the summary even when nothing happened.
  accepted.add(ok ? 1 : 0);
  failed.add(ok ? 0 : 1);
  failedRate.add(!ok);
  if (!ok) voteErrors.add(1, { class: outcome });
}

/**
 * After the load: read the recorded count until it has not moved for DRAIN_STABLE (or
 * DRAIN_TIMEOUT came), retrying failed reads, and leave what was seen in gauges for
 * handleSummary(), which judges it with the runner's rules (loadtests/reconcile.ts).
 */
export function teardown(data: SetupData): void {
  const started = Date.now();
  let watch: DrainWatch | undefined;
  let readError = 0;
  let t = 0;
  for (;;) {
    t = (Date.now() - started) / 1000;
    const res = read('results');
    const count = res.status === 200 ? recordedTotal(res.body) : undefined;
    readError = count !== undefined ? 0 : res.status || res.error_code;
    if (count !== undefined) {
      watch ??= new DrainWatch(count, settings.drainStable.seconds);
      if (watch.observe(t, count)) break;
    }
    if (t >= settings.drainTimeout.seconds) break;
    sleep(DRAIN_POLL_SECONDS);
  }
  drainElapsed.add(t);
  drainReadError.add(readError);
  drainStable.add(watch ? watch.stableFor(t) : 0);
  if (watch) {
    recordedDelta.add(watch.count - data.recordedBefore);
    drainSeconds.add(watch.lastChangeSeconds);
  }
}

/** The total of a /v2/results answer, or undefined when it is not a list of results. */
function recordedTotal(body: unknown): number | undefined {
  try {
    return totalVotes(body);
  } catch {
    return undefined;
  }
}

/**
 * The runner-shaped summary: text (or one JSON line, led by `"report":"myhero-k6-vote"`) on
 * stdout, JSON in SUMMARY_JSON (default summary.json). k6 calls it after a failed setup() too.
 */
export function handleSummary(data: K6SummaryData): Record<string, string> {
  const run = runFromSummary(data, settings, __ENV.HOSTNAME ? { instance: __ENV.HOSTNAME } : {});
  const out: Record<string, string> = {
    stdout: __ENV.SUMMARY_STDOUT === 'json' ? `${JSON.stringify(run)}\n` : summaryText(run),
  };
  const file = __ENV.SUMMARY_JSON ?? 'summary.json';
  if (file) out[file] = `${JSON.stringify(run, null, 2)}\n`;
  return out;
}
