import { paragraph, table, type ReportSection } from '../lib/report/html.ts';
import { lineChart } from '../lib/report/svg.ts';
import { describeSlo, type CapacityStep, type Knee, type Slo } from './capacity.ts';
import { mdTable } from './tables.ts';

// A capacity search as people read it: the capacity curve (offered rate against
// what was answered and accepted, the knee marked), latency against the offered
// rate with the SLO line, and every step in a table. Used by the `loadtest
// capacity` report and by the comparison's (demo) report.

const round1 = (v: number) => Math.round(v * 10) / 10;
const pct = (v: number) => `${round1(v * 100)} %`;

/** Each rate's step that counted (a retried step's retry), in rate order: the curve. */
function curveOf(steps: readonly CapacityStep[]): CapacityStep[] {
  const byRate = new Map<number, CapacityStep>();
  for (const s of steps) byRate.set(s.offeredPerSec, s);
  return [...byRate.values()].sort((a, b) => a.offeredPerSec - b.offeredPerSec);
}

export const STEP_HEAD = ['step', 'phase', 'offered/s', 'achieved/s', 'accepted/s', 'failed', 'p50 ms', 'p99 ms', 'dropped', 'generator busy', 'generator lag p99 ms', 'target silent ms', 'backlog at end', 'verdict'];

/** One row per step, as the table shows it. */
export function stepCells(s: CapacityStep): (string | number)[] {
  const failed = s.failed ? `${s.failed} (${Object.entries(s.errors).map(([k, v]) => `${k} ${v}`).join(', ')})` : 0;
  return [
    s.step,
    s.phase,
    s.offeredPerSec,
    s.achievedPerSec,
    s.acceptedPerSec,
    failed,
    round1(s.latencyMs.p50),
    round1(s.latencyMs.p99),
    s.dropped,
    pct(s.generator.busy),
    round1(s.generator.lagP99Ms),
    s.targetSilenceMs,
    s.backlogAtEnd ?? '?',
    s.ok ? 'ok' : `BROKE: ${s.brokeBy}`,
  ];
}

export function stepsMarkdown(steps: readonly CapacityStep[]): string {
  return mdTable(STEP_HEAD, steps.map(stepCells));
}

/** The curve and latency charts and the steps table of one mode's (or one target's) search. */
export function capacitySections(name: string, steps: readonly CapacityStep[], knee: Pick<Knee, 'sustainedPerSec' | 'brokeBy' | 'atLeast'>, slo: Slo, verdict: string): ReportSection[] {
  const curve = curveOf(steps);
  // A fifth more room on the right than the highest rate: the knee's label fits when the knee is the last step.
  const top = 1.2 * Math.max(1, ...curve.map((s) => s.offeredPerSec));
  const knees = curve.length ? [{ x: knee.sustainedPerSec, label: `${knee.atLeast ? '≥ ' : ''}${knee.sustainedPerSec}/s sustained` }] : [];
  const at = (f: (s: CapacityStep) => number) => curve.map((s) => [s.offeredPerSec, f(s)] as const);
  const throughput = lineChart({
    title: `${name}: capacity curve (offered rate vs answered and accepted)`,
    xLabel: 'offered requests/s',
    yLabel: 'per second',
    markers: knees,
    series: [
      { name: 'offered', points: [[0, 0], [top, top]], color: '#7f7f7f', dashed: true },
      { name: 'achieved (answered)', points: at((s) => s.achievedPerSec), color: '#1f77b4' },
      { name: 'accepted', points: at((s) => s.acceptedPerSec), color: '#2ca02c' },
    ],
  });
  const latency = lineChart({
    title: `${name}: vote latency vs offered rate`,
    xLabel: 'offered requests/s',
    yLabel: 'ms',
    markers: knees,
    series: [
      { name: 'p50', points: at((s) => s.latencyMs.p50), color: '#2ca02c' },
      { name: 'p99', points: at((s) => s.latencyMs.p99), color: '#d62728' },
      { name: `SLO p99 ${slo.p99Ms} ms`, points: [[0, slo.p99Ms], [top, slo.p99Ms]], color: '#7f7f7f', dashed: true },
    ],
  });
  return [
    {
      heading: `${name}: capacity`,
      html:
        paragraph(`${name} ${verdict}.`) +
        paragraph(`SLO: ${describeSlo(slo)}. Steps of fixed arrival rate (open model, latency from the intended send time); a step that fell short by a margin, in which the target went silent for a while (a stall, not a pace), or whose shortfall the load generator explains (its event loop saturated, or its own lateness) is run once more; if the generator fails it again, the generator — not the target — is named as the limit.`) +
        throughput +
        latency,
    },
    { heading: `${name}: steps`, html: table(STEP_HEAD, steps.map(stepCells)) + paragraph(steps.filter((s) => !s.ok).map((s) => `step ${s.step}: ${s.why}`).join(' · ')) },
  ];
}
