import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCompare, type TrialRun } from '../compare.ts';
import { renderCompareReport, renderRunReport, writeReport } from '../report.ts';
import { renderCapacityReport } from '../capacity-report.ts';
import type { CapacityResult } from '../capacity-run.ts';
import { SLO_DEFAULTS, type CapacityStep } from '../capacity.ts';
import { burstFigures, capacitySummary } from '../proof.ts';
import { parseThreshold, evaluateCapacity, evaluateRun } from '../thresholds.ts';
import { fakeResult, notSettled } from './fixtures/results.ts';

// report.html is opened in real headless Chromium: it must load with no network,
// no console errors, and charts whose SVG carries the data.

let browser: Browser;
beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
afterAll(async () => browser?.close());

async function open(file: string) {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  // Self-contained: any request beyond the file itself is a failure.
  await page.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : (problems.push(route.request().url()), route.abort())));
  await page.goto(`file://${file}`);
  return { page, problems };
}

/** What each chart drew: title, line series with their point counts, bars with values. */
async function charts(page: Awaited<ReturnType<typeof open>>['page']) {
  return page.$$eval('svg.chart', (svgs) =>
    svgs.map((svg) => {
      const box = svg.getBoundingClientRect();
      return {
        title: svg.querySelector('title')?.textContent ?? '',
        width: box.width,
        height: box.height,
        lines: [...svg.querySelectorAll('g.series')].map((g) => ({
          name: g.getAttribute('data-series'),
          points: Number(g.getAttribute('data-points')),
          pathLength: (g.querySelector('path') as unknown as { getTotalLength(): number } | null)?.getTotalLength() ?? 0,
        })),
        bars: [...svg.querySelectorAll('g.bar')].map((g) => ({ series: g.getAttribute('data-series'), value: Number(g.getAttribute('data-value')), height: Number(g.querySelector('rect')?.getAttribute('height')) })),
      };
    }),
  );
}

describe('report.html in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-report-'));

  it('renders the comparison: throughput per mode, latency percentiles, backlog and drain, accepted vs recorded', async () => {
    const runs: TrialRun[] = [1, 2, 3].flatMap((trial) => [
      { trial, mode: 'direct' as const, result: fakeResult({ mode: 'direct', acceptedPerSec: 30 + trial }) },
      { trial, mode: 'queue' as const, result: fakeResult({ mode: 'queue', acceptedPerSec: 100 + trial, acceptedTotal: 500, recordedDelta: 500 }) },
    ]);
    const c = summarizeCompare(runs, { storageProfile: 'pi-sd', trials: 3 }, false);
    const out = join(dir, 'compare');
    writeReport(out, renderCompareReport(c, runs, []), ['Secret-Key']);
    const { page, problems } = await open(join(out, 'report.html'));
    const drawn = await charts(page);
    expect(problems).toEqual([]);
    expect(drawn.map((d) => d.title)).toEqual([
      'Accepted votes per second',
      'Vote latency percentiles',
      'Queue backlog (accepted, not yet recorded) during the load and the drain',
      'Accepted vs recorded votes',
      'direct: accepted vs recorded over time, with the backlog',
      'queue: accepted vs recorded over time, with the backlog',
    ]);
    for (const d of drawn) expect(d.width).toBeGreaterThan(300);
    const [throughput, latency, backlog, reconciliation, , queueStored] = drawn;
    expect(throughput!.lines.map((l) => l.name)).toEqual(['direct accepted', 'direct failed', 'queue accepted', 'queue failed']);
    for (const l of throughput!.lines) {
      expect(l.points).toBe(5);
      expect(l.pathLength).toBeGreaterThan(100);
    }
    expect(latency!.bars).toHaveLength(10);
    expect(latency!.bars.every((b) => b.height > 0)).toBe(true);
    expect(backlog!.lines.map((l) => [l.name, l.points])).toEqual([
      ['direct', 4],
      ['queue', 4],
    ]);
    expect(reconciliation!.bars.filter((b) => b.series === 'accepted').map((b) => b.value)).toEqual([630, 1500]);
    // Cumulative accepted from the series (the origin, 5 seconds, held through the drain); recorded where the backlog readings carry it; the backlog itself.
    expect(queueStored!.lines.map((l) => [l.name, l.points])).toEqual([
      ['accepted (cumulative)', 7],
      ['recorded', 5],
      ['backlog', 4],
    ]);
    expect(await page.textContent('p.lead')).toMatch(/queue mode accepted .*× the votes per second of direct mode/);
    expect(await page.textContent('body')).toContain('storageProfile');
    await page.close();
  });

  it('renders a single run, marks a partial one, and keeps the key out', async () => {
    const r = fakeResult({ mode: 'queue', partial: true, conditions: { ...fakeResult().conditions, target: 'http://127.0.0.1:1', mode: 'queue', note: 'key Secret-Key' } });
    const out = join(dir, 'run');
    writeReport(out, renderRunReport(r, evaluateRun([parseThreshold('p99<50ms')], r)), ['Secret-Key']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).not.toContain('Secret-Key');
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).not.toContain('Secret-Key');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/PARTIAL/);
    const { page, problems } = await open(join(out, 'report.html'));
    expect(problems).toEqual([]);
    expect(await page.textContent('.warning')).toMatch(/^PARTIAL/);
    const drawn = await charts(page);
    expect(drawn).toHaveLength(5);
    expect(drawn[0]!.lines.every((l) => l.points === 5)).toBe(true);
    expect(await page.textContent('body')).toMatch(/FAIL/);
    await page.close();
  });

  it('a run that did not settle: lost is unknown, never drawn as 0, and the reason leads the page', async () => {
    const r = fakeResult({ mode: 'queue', ...notSettled('drain timeout (2 s) reached before the count stopped moving', 40), lostByHero: { Hulk: 40 } });
    const out = join(dir, 'not-settled');
    writeReport(out, renderRunReport(r, evaluateRun([parseThreshold('lost==0')], r)), []);
    const { page, problems } = await open(join(out, 'report.html'));
    expect(problems).toEqual([]);
    expect(await page.textContent('p.lead')).toMatch(/NOT SETTLED: accepted 210, recorded 170, not yet counted 40; lost unknown \(drain timeout \(2 s\) reached before the count stopped moving\)/);
    const reconciliation = (await charts(page))[3]!;
    expect(reconciliation.bars.map((b) => [b.series, b.value])).toEqual([
      ['accepted', 210],
      ['recorded', 170],
      ['not settled', 40],
    ]);
    expect(await page.textContent('body')).toMatch(/UNKNOWN/);
    await page.close();
  });
});

/** A capacity search that sustained 40/s and broke at 56/s by throughput (retried once at 48/s). */
function fakeSearch(mode: string, top = 56): CapacityResult {
  const rates: [number, boolean, CapacityStep['phase']][] = [
    [10, true, 'grow'],
    [20, true, 'grow'],
    [40, true, 'grow'],
    [top, false, 'grow'],
    [48, false, 'refine'],
    [48, false, 'retry'],
  ];
  const steps: CapacityStep[] = rates.map(([offered, ok, phase], i) => ({
    step: i + 1,
    phase,
    startSeconds: i * 1.5,
    offeredPerSec: offered,
    durationSeconds: 1,
    requests: offered,
    windowSeconds: ok ? 1 : offered / 42,
    achievedPerSec: ok ? offered : 42,
    attempted: offered,
    accepted: offered,
    failed: 0,
    errors: {},
    acceptedPerSec: ok ? offered : 42,
    latencyMs: { p50: ok ? 10 : 200, p90: ok ? 20 : 300, p99: ok ? 30 : 400, p999: ok ? 31 : 410, max: ok ? 32 : 420 },
    dropped: 0,
    generator: { busy: 0.1, lagP99Ms: 2 },
    targetSilenceMs: 30,
    backlogAtEnd: 0,
    ok,
    ...(ok ? {} : { brokeBy: 'throughput' as const }),
    why: ok ? 'p99 30 ms' : `answered 42/s of ${offered}/s offered`,
  }));
  const base = fakeResult({ mode });
  return {
    sustainedPerSec: 40,
    brokeBy: 'throughput',
    atLeast: false,
    goodStep: 3,
    badStep: 5,
    slo: SLO_DEFAULTS,
    search: { startRate: 10, maxRate: 1000, growth: 2, refineSteps: 3, stepSeconds: 1, settleSeconds: 0.5 },
    steps,
    verdict: 'sustains 40/s at p99 30 ms (p99 ≤ 1 s, failed ≤ 1 %, achieved ≥ 95 % of offered); at 48/s it broke by throughput: answered 42/s of 48/s offered',
    reconciliation: { ...base, outcome: 'counted' },
    acceptedTotal: 210,
    acceptedByHero: base.acceptedByHero,
    series: base.series,
    backlog: base.backlog.map((b) => ({ ...b, recorded: Math.round(b.t * 30) })),
    loadSeconds: 9,
    conditions: { ...base.conditions, model: 'open (capacity search)' },
    partial: false,
    startedAt: base.startedAt,
  };
}

describe('capacity in report.html (Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loadtest-capacity-report-'));

  it('loadtest capacity: the capacity curve with the knee, latency against the SLO, accepted vs recorded over the search', async () => {
    const r = fakeSearch('direct');
    const out = join(dir, 'capacity');
    writeReport(out, renderCapacityReport(r, evaluateCapacity([parseThreshold('sustained_per_sec>=30')], { ...r, lost: 0, extra: 0, drainSeconds: 0 })), []);
    const { page, problems } = await open(join(out, 'report.html'));
    expect(problems).toEqual([]);
    expect(await page.textContent('p.lead')).toMatch(/^direct sustains 40\/s/);
    const [curve, latency, stored] = await charts(page);
    expect(curve!.title).toBe('direct: capacity curve (offered rate vs answered and accepted)');
    // One point per rate (the retry at 48/s replaces its first run), the offered diagonal, the knee marked.
    expect(curve!.lines.map((l) => [l.name, l.points])).toEqual([
      ['offered', 2],
      ['achieved (answered)', 5],
      ['accepted', 5],
    ]);
    expect(await page.$$eval('svg.chart', (svgs) => svgs.slice(0, 2).map((s) => s.querySelector('g.marker text')?.textContent))).toEqual(['40/s sustained', '40/s sustained']);
    expect(latency!.lines.map((l) => l.name)).toEqual(['p50', 'p99', 'SLO p99 1000 ms']);
    expect(stored!.title).toBe('direct: accepted vs recorded over the search, with the backlog');
    expect(stored!.lines.every((l) => l.pathLength > 50)).toBe(true);
    expect(await page.$$eval('table', (t) => t[0]!.querySelectorAll('tbody tr').length)).toBe(6);
    expect(await page.textContent('body')).toMatch(/BROKE: throughput/);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toMatch(/\| 5 \| refine \| 48 \| 42 \| 42 \| 0 \|/);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ kind: 'capacity', sustainedPerSec: 40, brokeBy: 'throughput', thresholds: [{ ok: true }] });
    await page.close();
  });

  it('the demo\'s comparison: a capacity curve per mode, the burst, and the verdict paragraph', async () => {
    const runs: TrialRun[] = [1, 2].flatMap((trial) => [
      { trial, mode: 'direct' as const, result: fakeResult({ mode: 'direct', acceptedPerSec: 33 }) },
      { trial, mode: 'queue' as const, result: fakeResult({ mode: 'queue', acceptedPerSec: 80 }) },
    ]);
    const burst = fakeResult({ mode: 'queue', acceptedTotal: 200, backlog: [{ t: 0, votes: 0, recorded: 0 }, { t: 1, votes: 170, recorded: 30 }, { t: 6, votes: 0, recorded: 200 }] });
    const proof = {
      capacity: { slo: SLO_DEFAULTS, direct: capacitySummary(fakeSearch('direct')), queue: { ...capacitySummary(fakeSearch('queue', 400)), sustainedPerSec: 240, atLeast: true, brokeBy: null } },
      burst: { queue: burstFigures(200, burst) },
    };
    const c = summarizeCompare(runs, { storageProfile: 'pi-sd', trials: 2 }, false, proof);
    const out = join(dir, 'demo');
    writeReport(out, renderCompareReport(c, runs, [], { queue: burst }), []);
    const { page, problems } = await open(join(out, 'report.html'));
    expect(problems).toEqual([]);
    expect(await page.textContent('p.lead')).toMatch(/^Direct mode sustains 40 votes\/s .*; queue mode sustains at least 240 votes\/s .*: 6× direct/);
    const titles = (await charts(page)).map((d) => d.title);
    expect(titles.slice(0, 5)).toEqual([
      'direct: capacity curve (offered rate vs answered and accepted)',
      'direct: vote latency vs offered rate',
      'queue: capacity curve (offered rate vs answered and accepted)',
      'queue: vote latency vs offered rate',
      'queue: the burst, accepted vs recorded over time',
    ]);
    expect(await page.textContent('body')).toMatch(/capacity ratio \(queue\/direct sustained\): 6/);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/## Burst \(votes offered in one second\)\n\n\| mode \| offered \| accepted/);
    await page.close();
  });

  it('the banner names every part the target left, not only the trials: a capacity search and a burst too (what makes the exit code 3)', () => {
    const runs: TrialRun[] = [{ trial: 1, mode: 'direct', result: fakeResult({ mode: 'direct' }) }, { trial: 1, mode: 'queue', result: fakeResult({ mode: 'queue' }) }];
    const left = 'the target refused connections during the run (3 votes): it was not there for part of the load';
    const burst = fakeResult({ mode: 'queue', unjudged: left });
    const proof = { capacity: { slo: SLO_DEFAULTS, direct: capacitySummary({ ...fakeSearch('direct'), unjudged: `step 4 (40/s): ${left}` }), queue: capacitySummary(fakeSearch('queue')) }, burst: { queue: burstFigures(200, burst) } };
    const md = (c: ReturnType<typeof summarizeCompare>, bursts = {}) => renderCompareReport(c, runs, [], bursts)['summary.md'];
    expect(md(summarizeCompare(runs, {}, false, proof), { queue: burst })).toContain(`> NOT JUDGED: direct capacity: step 4 (40/s): ${left}; queue burst: ${left}.`);
    // The negative control: every part judged, no banner.
    const judged = { capacity: { slo: SLO_DEFAULTS, direct: capacitySummary(fakeSearch('direct')), queue: capacitySummary(fakeSearch('queue')) } };
    expect(md(summarizeCompare(runs, {}, false, judged))).not.toContain('NOT JUDGED');
  });
});
