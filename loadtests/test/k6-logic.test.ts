import { describe, expect, it } from 'vitest';
import { K6 } from '../../lib/catalog.ts';
import { BODIES } from '../../lib/defaults.ts';
import { classifyRead, classifyVote, SUMMARY_CLASSES } from '../k6/lib/classify.ts';
import { k6Options, measuredSeconds, parseDuration, settingsFromEnv } from '../k6/lib/options.ts';
import { DrainWatch, reconcileDrain, totalVotes, type DrainReading } from '../k6/lib/reconcile.ts';
import { SUMMARY_REPORT, runFromSummary, summaryText, type K6SummaryData } from '../k6/lib/summary.ts';
import { parseOptions, setupProblem } from '../k6/lib/target.ts';
import { errorSubmetric, parseK6Thresholds, toK6Threshold } from '../k6/lib/thresholds.ts';

// What the k6 vote script adds to the runner's rules, under Node: reading k6's answers,
// env settings and options, the drain's evidence and the summary. The rules themselves
// (classification, parsers, defaults, reconciliation) are the runner's modules, which
// the bundle inlines (k6-bundle.test.ts shows they are there) and the runner's tests cover.

const TARGET = 'http://127.0.0.1:15001';
const env = (extra: Record<string, string> = {}) => settingsFromEnv({ TARGET, ...extra });
const json = (v: unknown) => JSON.stringify(v);

describe("k6's answers", () => {
  it('counts a vote as accepted only on 200 with "vote submitted"; a request without an answer by its k6 error code', () => {
    expect(classifyVote({ status: 200, body: json(BODIES.voteSubmitted), error_code: 0 })).toBe('accepted');
    expect(classifyVote({ status: 200, body: json(BODIES.voteFailed), error_code: 0 })).toBe('vote_failed');
    expect(classifyVote({ status: 503, body: json(BODIES.voteSubmitted), error_code: 1503 })).toBe('http_503');
    expect(classifyVote({ status: 0, body: null, error_code: 1212 })).toBe('refused');
    expect(classifyRead({ status: 0, body: null, error_code: 1050 })).toBe('timeout');
    expect(classifyRead({ status: 500, body: '<html>', error_code: 1500 })).toBe('http_500');
    expect(classifyRead({ status: 200, body: '[]', error_code: 0 })).toBe('accepted');
  });

  it('lists the common failure classes for the summary, each as a k6 sub-metric', () => {
    expect(SUMMARY_CLASSES).toEqual(expect.arrayContaining(['vote_failed', 'timeout', 'refused', 'reset', 'http_401', 'http_503']));
    expect(errorSubmetric('http_503')).toBe(`${K6.voteErrors}{class:http_503}`);
  });
});

describe('the drain', () => {
  it('sums /v2/results from the text k6 hands over', () => {
    expect(totalVotes(json([['Deadpool', 2, 66.6], ['Superman', 1, 33.3]]))).toBe(3);
    expect(() => totalVotes('{"Deadpool": 2}')).toThrow(/list/);
    expect(() => totalVotes('not json')).toThrow(/JSON/);
  });

  it('calls the drain done once the count has not moved for the stable window', () => {
    const w = new DrainWatch(100, 3);
    expect(w.observe(0, 100)).toBe(false);
    expect(w.observe(1, 140)).toBe(false);
    expect(w.observe(2.04, 150)).toBe(false);
    expect(w.observe(4, 150)).toBe(false);
    expect(w.observe(5.1, 150)).toBe(true);
    expect(w.count).toBe(150);
    expect(w.lastChangeSeconds).toBe(2.04);
    expect(w.stableFor(5.1)).toBeCloseTo(3.06);
  });
});

describe("reconciliation: the runner's outcomes from what teardown saw", () => {
  // 100 accepted; teardown's drain with DRAIN_STABLE=3s, DRAIN_TIMEOUT=30s.
  const s = env({ DRAIN_STABLE: '3s', DRAIN_TIMEOUT: '30s' });
  const stable = (recordedDelta: number, extra: Partial<DrainReading> = {}): DrainReading => ({ recordedDelta, lastChangeSeconds: 1.26, stableSeconds: 3.1, elapsedSeconds: 4.4, readError: 0, ...extra });

  it('counted: every accepted vote recorded, drain time to the last change', () => {
    expect(reconcileDrain(stable(100), 100, s)).toMatchObject({ outcome: 'counted', recordedDelta: 100, lost: 0, extra: 0, drainSeconds: 1.3, net: { lost: 0, extra: 0 } });
    expect(reconcileDrain(stable(104), 100, s)).toMatchObject({ outcome: 'counted', lost: 0, extra: 4 });
  });

  it('lost only where the app is known to have no queue (APP_MODE=direct)', () => {
    expect(reconcileDrain(stable(93), 100, env({ APP_MODE: 'direct' }))).toMatchObject({ outcome: 'lost', recordedDelta: 93, lost: 7, extra: 0, drainSeconds: 1.3 });
  });

  it('not settled, never lost, when a short count may be a stalled queue', () => {
    for (const settings of [s, env({ APP_MODE: 'queue' })]) {
      const r = reconcileDrain(stable(93), 100, settings);
      expect(r).toMatchObject({ outcome: 'not-settled', lost: null, extra: null, drainSeconds: null, recordedDelta: 93, undrained: 7, unsettledBy: 'unknown' });
      expect(r.reason).toMatch(/stopped 7 votes short .*DRAIN_STABLE=3s.*APP_MODE=direct/);
    }
  });

  it('not settled when the final read failed, with the read in the reason', () => {
    const failed = reconcileDrain(stable(60, { readError: 500, stableSeconds: 0.2, elapsedSeconds: 30.1 }), 100, env({ APP_MODE: 'direct' }));
    expect(failed).toMatchObject({ outcome: 'not-settled', lost: null, recordedDelta: 60, unsettledBy: 'read' });
    expect(failed.reason).toMatch(/drain timeout \(30 s\) reached: the final read of the recorded votes failed: GET \/v2\/results answered HTTP 500/);
    const never = reconcileDrain({ lastChangeSeconds: 0, stableSeconds: 0, elapsedSeconds: 30.2, readError: 1212 }, 100, s);
    expect(never).toMatchObject({ outcome: 'not-settled', lost: null, recordedDelta: null, undrained: null, unsettledBy: 'read' });
    expect(never.reason).toMatch(/no answer \(k6 error 1212, refused\)/);
  });

  it('not settled when the drain timeout came while the count still moved', () => {
    const r = reconcileDrain(stable(80, { stableSeconds: 0.25, elapsedSeconds: 30.1 }), 100, env({ APP_MODE: 'direct' }));
    expect(r).toMatchObject({ outcome: 'not-settled', lost: null, undrained: 20, unsettledBy: 'moving' });
  });

  it('nothing to reconcile when teardown reported nothing, or each k6 instance sees only its share', () => {
    expect(reconcileDrain(undefined, 0, s)).toMatchObject({ outcome: 'not-settled', lost: null, recordedDelta: null });
    const shared = reconcileDrain(stable(325), 100, env({ PARALLELISM: '3', THRESHOLDS: '' }));
    expect(shared).toMatchObject({ outcome: 'not-settled', recordedDelta: 325, lost: null, extra: null });
    expect(shared.reason).toMatch(/PARALLELISM=3.*acceptedTotal.*largest recordedDelta/);
  });
});

describe('settings from env', () => {
  it('takes the runner\'s defaults, in k6 durations', () => {
    const s = env();
    expect(s.model).toEqual({ kind: 'closed', voters: 50, think: { text: '0s', seconds: 0 } });
    expect([s.duration.text, s.timeout.text, s.drainTimeout.text, s.drainStable.text]).toEqual(['30s', '10s', '30s', '3s']);
    expect(s.mix).toEqual({ vote: 90, results: 8, options: 2 });
    expect(s.thresholds.map((t) => t.source)).toEqual(['p99<500ms', 'failed_rate<0.01']);
    expect(s.appMode).toBeUndefined();
  });

  it('chooses the open model when RATE is set, as --rate does', () => {
    const s = env({ RATE: '200', DURATION: '1m', WARMUP: '10s' });
    expect(s.model).toEqual({ kind: 'open', rate: 200, connections: 200 });
    expect(measuredSeconds(s)).toBe(50);
    expect(env({ RATE: '0' }).model.kind).toBe('closed');
  });

  it('reads stages, mix, distribution, weights and seed', () => {
    const s = env({ STAGES: '10s:20,30s:20,10s:0', MIX: 'vote=1,results=1', DISTRIBUTION: 'weighted', WEIGHTS: 'Superman=3,Spider-Man=1', SEED: '7' });
    expect(s.duration.seconds).toBe(50);
    expect(s.stages).toEqual([{ duration: '10s', target: 20 }, { duration: '30s', target: 20 }, { duration: '10s', target: 0 }]);
    expect(s.mix).toEqual({ vote: 1, results: 1, options: 0 });
    expect(s.heroWeights).toEqual({ Superman: 3, 'Spider-Man': 1 });
    expect(s.seed).toBe(7);
    expect(env({ SEED: '0' }).seed).toBeUndefined();
  });

  it('states the stages\' peak as the level, not the VOTERS or RATE default', () => {
    expect(env({ STAGES: '10s:20,30s:35,10s:0' }).model).toEqual({ kind: 'closed', voters: 35, think: { text: '0s', seconds: 0 } });
    expect(env({ VOTERS: '5', STAGES: '10s:20,10s:0' }).model).toMatchObject({ voters: 20 });
    expect(env({ RATE: '1', STAGES: '10s:400,10s:0' }).model).toEqual({ kind: 'open', rate: 400, connections: 400 });
  });

  it('turns thresholds off with an empty THRESHOLDS', () => {
    expect(env({ THRESHOLDS: '' }).thresholds).toEqual([]);
  });

  it.each([
    [{ TARGET: '' }, /TARGET is required/],
    [{ TARGET: 'ftp://x' }, /invalid TARGET/],
    [{ DURATION: 'soon' }, /invalid DURATION "soon"/],
    [{ WARMUP: '30s' }, /WARMUP .* shorter than the load/],
    [{ VOTERS: '0' }, /invalid VOTERS/],
    [{ MIX: 'results=5' }, /must include votes/],
    [{ MIX: 'vote=5,likes=1' }, /invalid MIX "vote=5,likes=1": expected e.g. vote=90/],
    [{ VOTERS: '2.5' }, /invalid VOTERS "2.5": expected a whole number/],
    [{ APP_MODE: 'hybrid' }, /invalid APP_MODE "hybrid": expected one of direct\|queue/],
    [{ STAGES: '10s' }, /invalid STAGES/],
    [{ DISTRIBUTION: 'pareto' }, /invalid DISTRIBUTION/],
    [{ THRESHOLDS: 'p99<fast' }, /THRESHOLDS: invalid --threshold "p99<fast"/],
    [{ THRESHOLDS: 'ratio>1' }, /compare only/],
    [{ THRESHOLDS: 'queue.p99<5ms' }, /compare only/],
    // Refused here, not thrown by handleSummary() after the whole run.
    [{ THRESHOLDS: 'capacity_ratio>1' }, /THRESHOLDS: "capacity_ratio>1" applies to loadtest compare only/],
    [{ THRESHOLDS: 'sustained_per_sec>=10' }, /THRESHOLDS: "sustained_per_sec>=10" applies to a capacity search/],
    [{ PARALLELISM: '4', THRESHOLDS: 'lost==0' }, /single k6 instance/],
  ])('refuses %o with one clear line', (extra, message) => {
    expect(() => settingsFromEnv({ TARGET, ...extra })).toThrow(message);
  });

  it('parses k6 durations', () => {
    expect(parseDuration('1m30s', 'D').seconds).toBe(90);
    expect(parseDuration('250ms', 'D').seconds).toBe(0.25);
    expect(parseDuration('5', 'D')).toEqual({ text: '5s', seconds: 5 });
    expect(parseDuration('1.1s', 'D')).toEqual({ text: '1100ms', seconds: 1.1 });
  });
});

describe('k6 options', () => {
  it('closed: constant-vus for the whole load, ramping-vus with stages', () => {
    expect(k6Options(env({ VOTERS: '20', DURATION: '45s' })).scenarios).toEqual({ vote: { executor: 'constant-vus', vus: 20, duration: '45s' } });
    expect(k6Options(env({ STAGES: '5s:10,5s:0' })).scenarios).toEqual({
      vote: { executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '5s', target: 10 }, { duration: '5s', target: 0 }] },
    });
  });

  it('open: constant-arrival-rate per second, ramping-arrival-rate with stages, VUs = connections', () => {
    expect(k6Options(env({ RATE: '50', DURATION: '20s', CONNECTIONS: '30' })).scenarios).toEqual({
      vote: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '20s', preAllocatedVUs: 30, maxVUs: 30 },
    });
    expect(k6Options(env({ RATE: '1', STAGES: '10s:400,10s:0' })).scenarios?.vote).toMatchObject({
      executor: 'ramping-arrival-rate', startRate: 0, preAllocatedVUs: 400, maxVUs: 400,
    });
  });

  it('keeps k6 rates whole: a fractional rate per a longer time unit', () => {
    expect(k6Options(env({ RATE: '2.5', DURATION: '20s' })).scenarios?.vote).toMatchObject({ rate: 25, timeUnit: '10s' });
    expect(k6Options(env({ RATE: '0.125', STAGES: '10s:0.5,10s:0' })).scenarios?.vote).toMatchObject({
      timeUnit: '10s', stages: [{ duration: '10s', target: 5 }, { duration: '10s', target: 0 }],
    });
    expect(k6Options(env({ STAGES: '10s:2.5,10s:0' })).scenarios?.vote).toMatchObject({ stages: [{ target: 3 }, { target: 0 }] });
  });

  it('translates runner thresholds to k6 thresholds on the custom metrics', () => {
    const o = k6Options(env({ DURATION: '40s', WARMUP: '10s', THRESHOLDS: 'p99<0.5s,p(90)<200ms,failed_rate<1%,accepted_per_sec>=10,attempted>0,lost==0' }));
    expect(o.thresholds?.[K6.voteDuration]).toEqual(['p(99)<500', 'p(90)<200']);
    expect(o.thresholds?.[K6.voteFailedRate]).toEqual(['rate<0.01']);
    // 10 accepted/s over the 30 s measured = 300 accepted.
    expect(o.thresholds?.[K6.votesAccepted]).toEqual(['count>=300']);
    expect(o.thresholds?.[K6.votesAttempted]).toEqual(['count>0']);
    for (const t of parseK6Thresholds('lost==0,extra==0,drain_seconds<10')) expect(toK6Threshold(t, 30)).toBeUndefined();
    for (const c of SUMMARY_CLASSES) expect(o.thresholds?.[errorSubmetric(c)]).toEqual(['count>=0']);
  });

  it('gives teardown time for the whole drain', () => {
    const o = k6Options(env({ DRAIN_TIMEOUT: '2m' }));
    expect(parseDuration(o.teardownTimeout!, 't').seconds).toBeGreaterThan(120 + 3);
  });
});

describe('setup checks', () => {
  it('turns an unreachable target or a wrong key into one line, never the key', () => {
    expect(setupProblem(TARGET, 'GET /options', { status: 0, body: null, error: 'dial: connection refused', error_code: 1212 })).toBe(
      `target ${TARGET} unreachable (GET /options): dial: connection refused`,
    );
    const auth = setupProblem(TARGET, 'GET /options', { status: 401, body: json(BODIES.invalidKey), error: '', error_code: 1401 });
    expect(auth).toMatch(/^authentication failed: .*401.*MYHERO_APP_KEY/);
    expect(setupProblem(TARGET, 'GET /options', { status: 200, body: '{}', error: '', error_code: 0 })).toBeUndefined();
  });

  it('reads the heroes of GET /options', () => {
    expect(parseOptions(json({ options: ['Batman', 'Hulk'] }))).toEqual(['Batman', 'Hulk']);
    expect(() => parseOptions('Service up.')).toThrow(/options/);
    expect(() => parseOptions(json({ options: [] }))).toThrow(/no hero/);
  });
});

describe('summary in the runner --json shape', () => {
  const data = (o: Partial<Record<string, number>> = {}): K6SummaryData => ({
    state: { testRunDurationMs: 38_000 },
    metrics: {
      [K6.votesAttempted]: { type: 'counter', values: { count: 300, rate: 7.9 } },
      [K6.votesAccepted]: { type: 'counter', values: { count: 290, rate: 7.6 }, thresholds: { 'count>=150': { ok: true } } },
      [K6.warmupVotesAccepted]: { type: 'counter', values: { count: 40, rate: 1 } },
      [K6.votesFailed]: { type: 'counter', values: { count: 10, rate: 0.3 } },
      [K6.voteFailedRate]: { type: 'rate', values: { rate: 10 / 300, passes: 10, fails: 290 }, thresholds: { 'rate<0.01': { ok: false } } },
      [errorSubmetric('vote_failed')]: { type: 'counter', values: { count: 6, rate: 0.1 } },
      [errorSubmetric('http_503')]: { type: 'counter', values: { count: 3, rate: 0.1 } },
      [K6.requests]: { type: 'counter', values: { count: 330, rate: 8 } },
      [K6.readErrors]: { type: 'counter', values: { count: 2, rate: 0 } },
      [K6.voteDuration]: { type: 'trend', values: { med: 12.5, 'p(90)': 40, 'p(99)': 120.25, 'p(99.9)': 300, max: 410, avg: 20, min: 1 } },
      [K6.recordedDelta]: { type: 'gauge', values: { value: o.recorded ?? 325, min: 0, max: 0 } },
      [K6.drainSeconds]: { type: 'gauge', values: { value: 1.5, min: 0, max: 0 } },
      [K6.drainStableSeconds]: { type: 'gauge', values: { value: 3.2, min: 0, max: 0 } },
      [K6.drainElapsedSeconds]: { type: 'gauge', values: { value: 4.7, min: 0, max: 0 } },
      [K6.drainReadError]: { type: 'gauge', values: { value: o.readError ?? 0, min: 0, max: 0 } },
      dropped_iterations: { type: 'counter', values: { count: 4, rate: 0.1 } },
      [K6.setupCompleted]: { type: 'counter', values: { count: 1, rate: 0 } },
    },
  });
  const without = (d: K6SummaryData, ...names: string[]): K6SummaryData => ({ ...d, metrics: Object.fromEntries(Object.entries(d.metrics).filter(([k]) => !names.includes(k))) });

  it('maps counters, latency, errors and reconciliation; k6 verdicts where k6 judged', () => {
    const s = env({ DURATION: '40s', WARMUP: '10s', APP_MODE: 'direct', THRESHOLDS: 'failed_rate<0.01,accepted_per_sec>=5,lost==0' });
    const run = runFromSummary(data(), s);
    expect(run).toMatchObject({
      attempted: 300, accepted: 290, failed: 10, acceptedPerSec: 9.667, requestsPerSec: 11,
      latencyMs: { p50: 12.5, p90: 40, p99: 120.25, p999: 300, max: 410 },
      // 10 failed, 9 in listed classes: the remaining one is an unlisted status.
      errors: { vote_failed: 6, http_503: 3, http_other: 1 },
      acceptedTotal: 330,
      readErrors: 2, dropped: 4, recordedDelta: 325,
      // 290 + 40 warm-up accepted = 330 accepted, 325 recorded, the count stable, no queue.
      outcome: 'lost', lost: 5, extra: 0, drainSeconds: 1.5, net: { lost: 5, extra: 0 },
      ok: false,
    });
    expect(run).not.toHaveProperty('lostByHero');
    expect(run.thresholds).toEqual([
      { expr: 'failed_rate<0.01', ok: false, judgedBy: 'k6' },
      { expr: 'accepted_per_sec>=5', ok: true, judgedBy: 'k6' },
      { expr: 'lost==0', ok: false, judgedBy: 'summary' },
    ]);
    expect(run.conditions).toMatchObject({ engine: 'k6', target: TARGET, model: 'closed', voters: 50, durationSeconds: 40, warmupSeconds: 10, measuredSeconds: 30 });
    expect(summaryText(run)).toMatch(/FAIL +lost==0 +\(judged here/);
    expect(summaryText(run)).toMatch(/recorded +LOST: accepted 330, recorded 325, lost 5, extra 0, drain 1.5 s/);
  });

  it('reports a reconciliation that did not settle as such: lost unknown, its thresholds UNKNOWN, never passed', () => {
    const thresholds = 'lost==0,drain_seconds<60,extra==0';
    for (const [d, by] of [[data(), 'unknown'], [data({ readError: 503 }), 'read']] as const) {
      // Stable at 325 of 330 without APP_MODE (a queue may be stalled); or the final read answered 503.
      const run = runFromSummary(d, env({ THRESHOLDS: thresholds, DRAIN_TIMEOUT: by === 'read' ? '4s' : '30s' }));
      expect(run).toMatchObject({ outcome: 'not-settled', recordedDelta: 325, undrained: 5, lost: null, extra: null, drainSeconds: null, unsettledBy: by, ok: false });
      expect(run.thresholds).toEqual(thresholds.split(',').map((expr) => ({ expr, ok: false, judgedBy: 'summary', unknown: true })));
      const text = summaryText(run);
      expect(text).toMatch(/recorded +NOT SETTLED: accepted 330, recorded 325, not yet counted 5; lost unknown \(/);
      expect(text).toMatch(/UNKNOWN +lost==0/);
    }
    // The same figures, settled: the thresholds are judged on them.
    const counted = runFromSummary(data({ recorded: 330 }), env({ THRESHOLDS: thresholds }));
    expect(counted).toMatchObject({ outcome: 'counted', lost: 0, ok: true });
    expect(counted.thresholds.every((t) => t.ok && !t.unknown)).toBe(true);
  });

  it('leads with the report marker that picks the summary line out of a pod log', () => {
    const line = JSON.stringify(runFromSummary(data(), env()));
    expect(line.startsWith(`{"report":"${SUMMARY_REPORT}",`)).toBe(true);
  });

  it('summarises a run whose setup() failed as not run and not passed, every threshold unjudged', () => {
    // What k6 hands to handleSummary after setup() threw: no samples, only the metrics thresholds name.
    const empty: K6SummaryData = {
      state: { testRunDurationMs: 40 },
      metrics: {
        [K6.voteDuration]: { type: 'trend', values: { med: 0, 'p(99)': 0, max: 0 }, thresholds: { 'p(99)<500': { ok: true } } },
        [K6.voteFailedRate]: { type: 'rate', values: { rate: 0, passes: 0, fails: 0 }, thresholds: { 'rate<0.01': { ok: true } } },
      },
    };
    const run = runFromSummary(empty, env());
    expect(run).toMatchObject({ ran: false, attempted: 0, ok: false, notJudged: expect.stringMatching(/^setup\(\) did not complete/) });
    expect(run.thresholds).toEqual([
      { expr: 'p99<500ms', ok: false, judgedBy: 'none' },
      { expr: 'failed_rate<0.01', ok: false, judgedBy: 'none' },
    ]);
    const text = summaryText(run);
    expect(text).toMatch(/NOT JUDGED setup\(\) did not complete/);
    expect(text).toMatch(/n\/a +p99<500ms +\(not judged/);
    // The setup marker alone decides: the same figures with it are a run that measured nothing.
    expect(runFromSummary(without(data(), K6.setupCompleted), env()).ran).toBe(false);
  });

  it('does not pass a run that measured no vote', () => {
    const d = data();
    d.metrics[K6.votesAttempted]!.values.count = 0;
    const run = runFromSummary(d, env({ THRESHOLDS: 'attempted>=0' }));
    expect(run).toMatchObject({ ran: true, ok: false, notJudged: 'no vote was measured' });
    expect(runFromSummary(data(), env({ THRESHOLDS: '' })).ok).toBe(true);
  });

  it('states the stages\' peak in the conditions and the header', () => {
    const closed = runFromSummary(data(), env({ STAGES: '10s:20,30s:35,10s:0' }));
    expect(closed.conditions).toMatchObject({ model: 'closed', voters: 35, durationSeconds: 50 });
    expect(summaryText(closed)).toMatch(/closed model, stages up to 35 voters,/);
    const open = runFromSummary(data(), env({ RATE: '1', STAGES: '10s:400,10s:0' }));
    expect(open.conditions).toMatchObject({ model: 'open', rate: 400, connections: 400 });
    expect(summaryText(open)).toMatch(/open model, stages up to 400 requests\/s,/);
  });

  it('does not reconcile per instance when several k6 instances share the test', () => {
    const run = runFromSummary(data(), env({ PARALLELISM: '3', THRESHOLDS: '' }));
    expect(run).toMatchObject({ outcome: 'not-settled', recordedDelta: 325, lost: null, extra: null, ok: true });
  });

  it('carries no key: the settings it reports never held one', () => {
    const run = runFromSummary(data(), settingsFromEnv({ TARGET, MYHERO_APP_KEY: 'Sekr3t-K6-Key' }));
    expect(JSON.stringify(run)).not.toContain('Sekr3t-K6-Key');
  });
});
