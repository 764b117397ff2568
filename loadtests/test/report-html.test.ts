import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCompare, type TrialRun } from '../compare.ts';
import { renderCompareReport, renderRunReport, writeReport } from '../report.ts';
import { parseThreshold, evaluateRun } from '../thresholds.ts';
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
    expect(drawn.map((d) => d.title)).toEqual(['Accepted votes per second', 'Vote latency percentiles', 'Queue backlog (accepted, not yet recorded) during the load and the drain', 'Accepted vs recorded votes']);
    for (const d of drawn) expect(d.width).toBeGreaterThan(300);
    const [throughput, latency, backlog, reconciliation] = drawn;
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
    expect(drawn).toHaveLength(4);
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
