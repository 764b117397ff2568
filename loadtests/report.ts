import { join } from 'node:path';
import { paragraph, renderPage, table, type ReportSection } from '../lib/report/html.ts';
import { barChart, lineChart, type LineSeries } from '../lib/report/svg.ts';
import { writeFiles } from '../lib/output.ts';
import { scrub } from '../lib/secrets.ts';
import { APP_MODES, type AppMode } from '../lib/defaults.ts';
import type { CompareResult, ModeSummary, TrialRun } from './compare.ts';
import type { IntervalSample, RunResult } from './engine.ts';
import { describeSlo } from './capacity.ts';
import { capacitySections, stepsMarkdown } from './capacity-charts.ts';
import { describeReconciliation, type BacklogPoint } from './reconcile.ts';
import type { StoredRate } from './stored-rate.ts';
import { mdTable, textTable } from './tables.ts';
import type { ThresholdOutcome } from './thresholds.ts';

// Results → what people read: the --json document (the issue's contract), the
// terminal table, and the report folder (summary.json, summary.md, report.html).

const MODE_COLORS: Record<string, string> = { direct: '#d62728', queue: '#1f77b4', run: '#1f77b4' };

/** `loadtest run --json`: the contract fields, plus whether the run was partial and the thresholds. */
export function runJson(r: RunResult, thresholds: ThresholdOutcome[]) {
  return {
    attempted: r.attempted,
    accepted: r.accepted,
    failed: r.failed,
    acceptedPerSec: r.acceptedPerSec,
    requestsPerSec: r.requestsPerSec,
    latencyMs: r.latencyMs,
    errors: r.errors,
    reconnects: r.reconnects,
    outcome: r.outcome,
    recordedDelta: r.recordedDelta,
    lost: r.lost,
    extra: r.extra,
    drainSeconds: r.drainSeconds,
    ...(r.outcome === 'not-settled' ? { undrained: r.undrained ?? null, reason: r.reason } : {}),
    lostByHero: r.lostByHero,
    extraByHero: r.extraByHero,
    net: r.net,
    ...(r.note ? { note: r.note } : {}),
    ...(r.unjudged ? { unjudged: r.unjudged } : {}),
    conditions: r.conditions,
    partial: r.partial,
    dropped: r.dropped,
    generatorLagMs: r.generatorLagMs,
    generatorBusy: r.generatorBusy,
    ...storedRateOf(r),
    ...(r.windows ? { windows: r.windows } : {}),
    thresholds,
  };
}

/** The stored-rate figures of a run (or a mode's medians). */
const storedRateOf = (r: StoredRate): StoredRate => ({
  loadSeconds: r.loadSeconds,
  recordedPerSec: r.recordedPerSec,
  backlogAtLoadEnd: r.backlogAtLoadEnd,
  backlogGrowthPerSec: r.backlogGrowthPerSec,
  predictedDrainSeconds: r.predictedDrainSeconds,
});

/** `loadtest compare --json` / `demo --json`; `capacity` and `burst` when they ran. */
export function compareJson(c: CompareResult, thresholds: ThresholdOutcome[]) {
  return {
    modes: c.modes,
    ratio: c.ratio,
    ...(c.capacity ? { capacity: c.capacity, capacityRatio: c.capacityRatio ?? null } : {}),
    ...(c.burst ? { burst: c.burst } : {}),
    lostOverall: c.lostOverall,
    verdict: c.verdict,
    trials: c.trials,
    conditions: c.conditions,
    partial: c.partial,
    thresholds,
  };
}

interface Row {
  name: string;
  acceptedPerSec: number;
  failed: number;
  latencyMs: RunResult['latencyMs'];
  lost: number | null;
  extra: number | null;
  drainSeconds: number | null;
  recordedPerSec: number | null;
}

const HEAD = ['', 'accepted/s', 'failed', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'lost', 'extra', 'drain s', 'recorded/s'];
const round1 = (v: number) => Math.round(v * 10) / 10;
/** A figure the reconciliation could not establish shows as "?": never as 0. */
const shown = (v: number | null): string | number => (v === null ? '?' : round1(v));
const cells = (r: Row) => [r.name, ...[r.acceptedPerSec, r.failed, r.latencyMs.p50, r.latencyMs.p90, r.latencyMs.p99, r.latencyMs.p999, r.latencyMs.max, r.lost, r.extra, r.drainSeconds, r.recordedPerSec].map(shown)];

/** The results table for a terminal. */
export function resultsText(rows: readonly Row[]): string {
  return textTable(HEAD, rows.map(cells), [0]);
}

const resultsMd = (rows: readonly Row[]) => mdTable(HEAD.map((h) => h || 'mode'), rows.map(cells), 1);

const rowOfRun = (name: string, r: RunResult): Row => ({ name, ...r });
const rowOfMode = (name: string, m: ModeSummary): Row => ({ name, ...m });

export function runRows(r: RunResult): Row[] {
  return [rowOfRun(String(r.conditions.mode ?? 'run'), r)];
}

export function compareRows(c: CompareResult): Row[] {
  return APP_MODES.map((m) => rowOfMode(m, c.modes[m]));
}

/** pass, FAIL, or UNKNOWN (the figure could not be established: the run is not judged on it). */
export const thresholdVerdict = (o: ThresholdOutcome) => (o.unknown ? 'UNKNOWN' : o.ok ? 'pass' : 'FAIL');

function thresholdsMd(t: readonly ThresholdOutcome[]): string {
  if (!t.length) return '';
  return `\n## Thresholds\n\n${t.map((o) => `- ${o.ok ? 'pass' : `**${thresholdVerdict(o)}**`} \`${o.threshold}\`${o.mode ? ` (${o.mode})` : ''}: ${o.actual ?? 'unknown'}`).join('\n')}\n`;
}

function thresholdsSection(t: readonly ThresholdOutcome[]): ReportSection[] {
  if (!t.length) return [];
  return [{ heading: 'Thresholds', html: table(['threshold', 'mode', 'actual', 'result'], t.map((o) => [o.threshold, o.mode ?? '', o.actual ?? 'unknown', thresholdVerdict(o)])) }];
}

/** Per-hero losses and extras, when there are any: the gross view that totals can hide. */
function byHeroRows(lostByHero: Record<string, number>, extraByHero: Record<string, number>): (string | number)[][] {
  return [...new Set([...Object.keys(lostByHero), ...Object.keys(extraByHero)])].sort().map((h) => [h, lostByHero[h] ?? 0, extraByHero[h] ?? 0]);
}

/** The end of a summary.md: the thresholds, then the conditions, one `- key: value` line each. */
const mdTail = (thresholds: readonly ThresholdOutcome[], c: Record<string, unknown>) =>
  thresholdsMd(thresholds) +
  `\n## Conditions\n\n${Object.entries(flatConditions(c))
    .map(([k, v]) => `- ${k}: ${v}`)
    .join('\n')}\n`;

/** The head of a summary.md: the title, then the banner of a partial or unjudged report. */
const mdHead = (title: string, warning: string) => `# ${title}\n\n${warning ? `> ${warning}\n\n` : ''}`;

/** The banner of a report that is partial (Ctrl-C) or could not be judged (`unjudged`: what went away, where). */
export const warningOf = (partial: boolean, unjudged: readonly string[]) =>
  [partial ? PARTIAL : '', unjudged.length ? `NOT JUDGED: ${unjudged.join('; ')}.` : ''].filter(Boolean).join(' ');

function flatConditions(c: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) out[`${k}.${k2}`] = typeof v2 === 'object' ? JSON.stringify(v2) : String(v2);
    else out[k] = Array.isArray(v) ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** The four charts, for one run per mode (a comparison shows its median trial per mode). */
interface Reconciled {
  name: string;
  accepted: number;
  recorded: number;
  /** Unknown (not settled): left out of the chart, never drawn as 0. */
  lost: number | null;
  extra: number | null;
  /** Not settled: votes not yet counted at the last read. */
  undrained?: number;
}

function reconciledOf(name: string, results: readonly RunResult[]): Reconciled {
  const sum = (f: (r: RunResult) => number | null | undefined) => results.reduce((a, r) => a + (f(r) ?? 0), 0);
  const settled = results.every((r) => r.outcome !== 'not-settled');
  const lostSomewhere = results.some((r) => (r.lost ?? 0) > 0);
  return {
    name,
    accepted: sum((r) => r.acceptedTotal),
    recorded: sum((r) => r.recordedDelta),
    lost: settled || lostSomewhere ? sum((r) => r.lost) : null,
    extra: settled ? sum((r) => r.extra) : null,
    ...(settled ? {} : { undrained: sum((r) => (r.outcome === 'not-settled' ? r.undrained : 0)) }),
  };
}

function charts(runs: readonly { name: string; result: RunResult }[], recorded: readonly Reconciled[]): ReportSection[] {
  const color = (n: string) => MODE_COLORS[n];
  const withColor = (name: string): Pick<LineSeries, 'color'> => (color(name) ? { color: color(name)! } : {});
  const loadEnd = Math.max(...runs.map((r) => r.result.conditions.durationSeconds));
  const warmup = Math.max(...runs.map((r) => r.result.conditions.warmupSeconds));
  const bands = warmup > 0 ? [{ from: 0, to: warmup, label: 'warm-up (excluded)' }] : [];
  const throughput = lineChart({
    title: 'Accepted votes per second',
    xLabel: 'seconds since start',
    yLabel: 'votes/s',
    step: true,
    bands,
    series: runs.flatMap(({ name, result }) => [
      { name: `${name} accepted`, points: result.series.map((s) => [s.t, s.accepted] as const), ...withColor(name) },
      { name: `${name} failed`, points: result.series.map((s) => [s.t, s.attempted - s.accepted] as const), dashed: true, ...withColor(name) },
    ]),
  });
  const latency = barChart({
    title: 'Vote latency percentiles',
    yLabel: 'ms',
    colors: MODE_COLORS,
    groups: (['p50', 'p90', 'p99', 'p999', 'max'] as const).map((p) => ({
      label: p === 'p999' ? 'p99.9' : p,
      values: runs.map(({ name, result }) => ({ name, value: result.latencyMs[p] })),
    })),
  });
  const backlog = lineChart({
    title: 'Queue backlog (accepted, not yet recorded) during the load and the drain',
    xLabel: 'seconds since start',
    yLabel: 'votes',
    markers: [{ x: loadEnd, label: 'load ends, drain starts' }],
    series: runs.map(({ name, result }) => ({ name, points: result.backlog.map((b) => [b.t, b.votes] as const), ...withColor(name) })),
  });
  const reconciliation = barChart({
    title: 'Accepted vs recorded votes',
    yLabel: 'votes',
    colors: { accepted: '#2ca02c', recorded: '#1f77b4', lost: '#d62728', extra: '#ff7f0e', 'not settled': '#7f7f7f' },
    groups: recorded.map((r) => ({
      label: r.name,
      values: [
        { name: 'accepted', value: r.accepted },
        { name: 'recorded', value: r.recorded },
        ...(r.lost !== null ? [{ name: 'lost', value: r.lost }] : []),
        ...(r.extra !== null ? [{ name: 'extra', value: r.extra }] : []),
        ...(r.undrained !== undefined ? [{ name: 'not settled', value: r.undrained }] : []),
      ],
    })),
  });
  const stored = runs.map(({ name, result }) => acceptedVsRecorded(`${name}: accepted vs recorded over time, with the backlog`, result.series, result.backlog, result.conditions.durationSeconds) + paragraph(`${name}: ${storedLine(result)}`));
  return [
    { heading: 'Throughput', html: throughput },
    { heading: 'Latency', html: latency + paragraph('Latency is measured from the intended send time in the open model (no coordinated omission), from the send time in the closed model.') },
    { heading: 'Backlog and drain', html: backlog },
    { heading: 'Every accepted vote counted?', html: reconciliation },
    { heading: 'Accepted vs recorded over time', html: stored.join('') },
  ];
}

/** The stored rate in one line: what was recorded per second, how fast the backlog grew, the drain predicted and measured. */
function storedLine(r: StoredRate & Pick<RunResult, 'drainSeconds'>): string {
  const recorded = r.recordedPerSec === null ? 'recorded rate unknown (the drain did not settle)' : `${r.recordedPerSec} votes recorded/s over the load and the drain`;
  if (r.backlogGrowthPerSec === null) return recorded;
  const drain = r.drainSeconds === null ? 'not settled' : `${r.drainSeconds} s`;
  return `${recorded}; the backlog grew ${r.backlogGrowthPerSec} votes/s during the load (${r.backlogAtLoadEnd} at its end); drain predicted ${r.predictedDrainSeconds ?? '?'} s, measured ${drain}`;
}

export interface ReportFiles {
  'summary.json': string;
  'summary.md': string;
  'report.html': string;
}

/**
 * A report's three files from its parts. Every report has the same frame in Markdown and HTML:
 * the title, the banner of a partial or unjudged run, the body (`md` / `sections`), then the
 * thresholds and the conditions.
 */
export function reportFiles(p: {
  title: string;
  lead: string;
  warning: string;
  md: string;
  sections: ReportSection[];
  thresholds: readonly ThresholdOutcome[];
  conditions: Record<string, unknown>;
  json: unknown;
}): ReportFiles {
  return {
    'summary.json': JSON.stringify(p.json, null, 2),
    'summary.md': mdHead(p.title, p.warning) + p.md + mdTail(p.thresholds, p.conditions),
    'report.html': renderPage({
      title: p.title,
      lead: p.lead,
      ...(p.warning ? { warning: p.warning } : {}),
      sections: [...p.sections, ...thresholdsSection(p.thresholds)],
      conditions: flatConditions(p.conditions),
      generatedAt: new Date(),
    }),
  };
}

const PARTIAL = 'PARTIAL: the run was stopped early (Ctrl-C); figures cover only what ran.';

/**
 * Accepted votes (cumulative, by answer) and recorded votes over time, with the backlog between
 * them: direct mode's recorded line follows its accepted one; queue mode's lags behind and
 * catches up in the drain. Recorded points come from the services' counters or /v2/results.
 */
export function acceptedVsRecorded(title: string, series: readonly Pick<IntervalSample, 't' | 'accepted'>[], backlog: readonly BacklogPoint[], loadEndSeconds: number): string {
  let sum = 0;
  const accepted: [number, number][] = [[0, 0], ...series.map((s) => [s.t + 1, (sum += s.accepted)] as [number, number])];
  const recorded = backlog.filter((b) => b.recorded !== undefined).map((b) => [b.t, b.recorded!] as const);
  // Nothing is accepted after the load: the line holds its total through the drain.
  const end = Math.max(0, ...backlog.map((b) => b.t));
  if (end > accepted.at(-1)![0]) accepted.push([end, sum]);
  return lineChart({
    title,
    xLabel: 'seconds since start',
    yLabel: 'votes',
    markers: [{ x: loadEndSeconds, label: 'load ends' }],
    series: [
      { name: 'accepted (cumulative)', points: accepted, color: '#2ca02c' },
      { name: 'recorded', points: recorded.length ? [[0, 0], ...recorded] : [], color: '#1f77b4' },
      { name: 'backlog', points: backlog.map((b) => [b.t, b.votes] as const), color: '#ff7f0e', dashed: true },
    ],
  });
}

/** What the load did, in one line. */
export function loadLine(r: RunResult): string {
  const classes = Object.entries(r.errors).map(([k, v]) => `${k} ${v}`);
  return `${r.acceptedPerSec} accepted votes/s; ${r.failed} of ${r.attempted} votes failed${classes.length ? ` (${classes.join(', ')})` : ''}; p99 ${r.latencyMs.p99} ms; ${r.reconnects} reconnects`;
}

export function renderRunReport(r: RunResult, thresholds: ThresholdOutcome[]): ReportFiles {
  const title = `myhero load test: ${r.conditions.target}`;
  const lead = `${loadLine(r)}. Reconciliation ${describeReconciliation(r, r.acceptedTotal)}.`;
  const name = String(r.conditions.mode ?? 'run');
  const rows = runRows(r);
  const heroes = byHeroRows(r.lostByHero, r.extraByHero);
  return reportFiles({
    title,
    lead,
    warning: warningOf(r.partial, r.unjudged ? [r.unjudged] : []),
    md:
      `${lead}\n\n${resultsMd(rows)}\n\n` +
      `Stored: ${storedLine(r)}.\n` +
      `Errors by class: ${Object.keys(r.errors).length ? Object.entries(r.errors).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'}.\n` +
      `Reconnects (new connections, not failures): ${r.reconnects}.\n` +
      (heroes.length ? `\n## Per hero\n\n${mdTable(['hero', 'lost', 'extra'], heroes, 1)}\n` : ''),
    sections: [
      { heading: 'Results', html: table(HEAD.map((h) => h || 'mode'), rows.map((row) => cells(row))) + paragraph(`Reconnects (new connections, not failures): ${r.reconnects}.`) },
      ...charts([{ name, result: r }], [reconciledOf(name, [r])]),
      ...(heroes.length ? [{ heading: 'Per hero (lost and extra)', html: table(['hero', 'lost', 'extra'], heroes) }] : []),
      { heading: 'Errors by class', html: table(['class', 'votes'], Object.entries(r.errors)) },
    ],
    thresholds,
    conditions: r.conditions,
    json: { kind: 'run', ...runJson(r, thresholds), result: r },
  });
}

/** The trial whose accepted votes/s is the median of its mode: the one the charts show. */
function medianRun(runs: readonly TrialRun[], mode: AppMode): TrialRun | undefined {
  const of = runs.filter((r) => r.mode === mode).sort((a, b) => a.result.acceptedPerSec - b.result.acceptedPerSec);
  return of[(of.length - 1) >> 1];
}

/** The capacity searches and bursts of a comparison, as tables (Markdown and HTML) and charts. */
function proofParts(c: CompareResult, bursts: Partial<Record<AppMode, RunResult>>) {
  const searched = APP_MODES.flatMap((m) => (c.capacity?.[m] ? [{ mode: m, s: c.capacity[m] }] : []));
  const capHead = ['mode', 'sustained/s', 'broke by', 'verdict'];
  const capRows = searched.map(({ mode, s }) => [mode, `${s.atLeast ? '≥ ' : ''}${s.sustainedPerSec}`, s.brokeBy ?? 'nothing (upper bound)', s.verdict]);
  const burstHead = ['mode', 'offered', 'accepted', 'failed', 'p50 ms', 'p99 ms', 'outcome', 'lost', 'drain s', 'predicted drain s'];
  const burstRows = APP_MODES.flatMap((m) => {
    const b = c.burst?.[m];
    return b ? [[m, b.offered, b.accepted, b.failed, round1(b.latencyMs.p50), round1(b.latencyMs.p99), b.outcome, shown(b.lost), shown(b.drainSeconds), shown(b.predictedDrainSeconds)]] : [];
  });
  const md =
    (searched.length
      ? `\n## Capacity (${describeSlo(c.capacity!.slo)})\n\ncapacity ratio (queue/direct sustained): ${c.capacityRatio ?? 'n/a'}\n\n${mdTable(capHead, capRows)}\n` +
        searched.map(({ mode, s }) => `\n### ${mode} steps\n\n${stepsMarkdown(s.steps)}\n`).join('')
      : '') + (burstRows.length ? `\n## Burst (votes offered in one second)\n\n${mdTable(burstHead, burstRows)}\n` : '');
  const sections: ReportSection[] = [
    ...(searched.length
      ? [
          { heading: 'Capacity: sustained within the SLO', html: table(capHead, capRows) + paragraph(`capacity ratio (queue/direct sustained): ${c.capacityRatio ?? 'n/a'}`) },
          ...searched.flatMap(({ mode, s }) => capacitySections(mode, s.steps, s, c.capacity!.slo, s.verdict)),
        ]
      : []),
    ...(burstRows.length
      ? [
          {
            heading: 'Burst: votes offered in one second',
            html:
              table(burstHead, burstRows) +
              APP_MODES.flatMap((m) => {
                const r = bursts[m];
                return r ? [acceptedVsRecorded(`${m}: the burst, accepted vs recorded over time`, r.series, r.backlog, r.conditions.durationSeconds)] : [];
              }).join(''),
          },
        ]
      : []),
  ];
  return { md, sections };
}

export function renderCompareReport(c: CompareResult, runs: readonly TrialRun[], thresholds: ThresholdOutcome[], bursts: Partial<Record<AppMode, RunResult>> = {}): ReportFiles {
  const title = 'myhero: queue mode vs direct mode';
  const proof = proofParts(c, bursts);
  const rows = compareRows(c);
  const trialRows = c.trials.flatMap((t) =>
    t.order.flatMap((mode) => {
      const f = t[mode];
      return f ? [[t.trial, mode, f.acceptedPerSec, f.failed, round1(f.p99), f.outcome, shown(f.lost), shown(f.extra), shown(f.drainSeconds)]] : [];
    }),
  );
  const trialHead = ['trial', 'mode', 'accepted/s', 'failed', 'p99 ms', 'outcome', 'lost', 'extra', 'drain s'];
  const charted = APP_MODES.flatMap((mode) => {
    const r = medianRun(runs, mode);
    return r ? [{ name: mode, result: r.result }] : [];
  });
  const totals = APP_MODES.map((mode) =>
    reconciledOf(
      `${mode} (all trials)`,
      runs.filter((r) => r.mode === mode).map((r) => r.result),
    ),
  );
  const spread = APP_MODES.map((m) => {
    const s = c.modes[m].spread;
    return [m, `${s.acceptedPerSec[0]}–${s.acceptedPerSec[1]}`, `${s.p99[0]}–${s.p99[1]}`, `${s.drainSeconds[0]}–${s.drainSeconds[1]}`];
  });
  const note = 'Figures are medians over trials; lost and extra are totals over all trials (per hero: a duplicate of one hero cannot hide a loss of another); "?" is a figure the reconciliation could not establish. Trials alternate the order (direct first, then queue first) so drift favours neither mode.';
  const heroes = APP_MODES.flatMap((m) => byHeroRows(c.modes[m].lostByHero, c.modes[m].extraByHero).map((row) => [m, ...row]));
  // Every part the target left, as the exit code counts them: the searches, the trials, the bursts.
  const unjudged = [
    ...APP_MODES.flatMap((m) => (c.capacity?.[m]?.unjudged ? [`${m} capacity: ${c.capacity[m].unjudged}`] : [])),
    ...runs.filter((r) => r.result.unjudged).map((r) => `trial ${r.trial} ${r.mode}: ${r.result.unjudged}`),
    ...APP_MODES.flatMap((m) => (bursts[m]?.unjudged ? [`${m} burst: ${bursts[m].unjudged}`] : [])),
  ];
  return reportFiles({
    title,
    lead: `${c.verdict} (ratio ${c.ratio ?? 'n/a'})`,
    warning: warningOf(c.partial, unjudged),
    md:
      `**${c.verdict}**\n\nratio (queue/direct accepted votes/s): ${c.ratio ?? 'n/a'}\n\n${resultsMd(rows)}\n\n${note}\n\n` +
      proof.md +
      `\n## Trials\n\n${mdTable(trialHead, trialRows)}\n` +
      (heroes.length ? `\n## Per hero\n\n${mdTable(['mode', 'hero', 'lost', 'extra'], heroes, 2)}\n` : ''),
    sections: [
      { heading: 'Results (medians over trials)', html: table(HEAD.map((h) => h || 'mode'), rows.map((row) => cells(row))) + paragraph(note) },
      { heading: 'Spread over trials (min–max)', html: table(['mode', 'accepted/s', 'p99 ms', 'drain s'], spread) },
      ...proof.sections,
      ...charts(charted, totals),
      { heading: 'Trials', html: table(trialHead, trialRows) },
      ...(heroes.length ? [{ heading: 'Per hero (lost and extra, all trials)', html: table(['mode', 'hero', 'lost', 'extra'], heroes) }] : []),
    ],
    thresholds,
    conditions: c.conditions,
    json: { kind: 'compare', ...compareJson(c, thresholds), runs: runs.map((r) => ({ trial: r.trial, mode: r.mode, result: r.result })) },
  });
}

/** Write the report folder; secrets are scrubbed from every file as a last line of defence. */
export function writeReport(dir: string, files: ReportFiles, secrets: readonly string[]): void {
  writeFiles(dir, Object.fromEntries(Object.entries(files).map(([name, text]) => [name, scrub(text, secrets)])));
}

/** reports/<timestamp>/ */
export function defaultReportDir(at = new Date()): string {
  return join('reports', at.toISOString().replace(/[:.]/g, '-'));
}
