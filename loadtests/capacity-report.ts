import { paragraph, table } from '../lib/report/html.ts';
import { capacitySections, STEP_HEAD, stepCells, stepsMarkdown } from './capacity-charts.ts';
import type { CapacityResult } from './capacity-run.ts';
import { describeReconciliation } from './reconcile.ts';
import { acceptedVsRecorded, reportFiles, warningOf, type ReportFiles } from './report.ts';
import { textTable } from './tables.ts';
import type { ThresholdOutcome } from './thresholds.ts';

// `loadtest capacity` results → what people read: the --json document (the
// issue's contract), the terminal table of steps, and the report folder.

/** `loadtest capacity --json`. */
export function capacityJson(r: CapacityResult, thresholds: ThresholdOutcome[]) {
  return {
    sustainedPerSec: r.sustainedPerSec,
    brokeBy: r.brokeBy,
    atLeast: r.atLeast,
    verdict: r.verdict,
    slo: r.slo,
    search: r.search,
    steps: r.steps,
    reconciliation: { ...r.reconciliation, acceptedTotal: r.acceptedTotal },
    ...(r.unjudged ? { unjudged: r.unjudged } : {}),
    conditions: r.conditions,
    partial: r.partial,
    thresholds,
  };
}

/** The steps as a terminal table. */
export function stepsTable(r: CapacityResult): string {
  return textTable(STEP_HEAD, r.steps.map(stepCells), [1, STEP_HEAD.length - 1]);
}

export function renderCapacityReport(r: CapacityResult, thresholds: ThresholdOutcome[]): ReportFiles {
  const name = String(r.conditions.mode ?? 'target');
  const title = `myhero capacity: ${String(r.conditions.target ?? '')}`;
  const reconciliation = `Reconciliation of every step's votes ${describeReconciliation(r.reconciliation, r.acceptedTotal)}.`;
  const lead = `${name} ${r.verdict}.`;
  return reportFiles({
    title,
    lead,
    warning: warningOf(r.partial, r.unjudged ? [r.unjudged] : []),
    md:
      `**${lead}**\n\n${reconciliation}\n\n## Steps\n\n${stepsMarkdown(r.steps)}\n\n` +
      r.steps
        .filter((s) => !s.ok)
        .map((s) => `- step ${s.step}: ${s.why}`)
        .join('\n') +
      '\n',
    sections: [
      ...capacitySections(name, r.steps, r, r.slo, r.verdict),
      {
        heading: 'Accepted vs recorded over the search',
        html: acceptedVsRecorded(`${name}: accepted vs recorded over the search, with the backlog`, r.series, r.backlog, r.loadSeconds) + paragraph(reconciliation),
      },
      { heading: 'Errors by class, all steps', html: table(['class', 'votes'], Object.entries(sumErrors(r))) },
    ],
    thresholds,
    conditions: r.conditions,
    json: { kind: 'capacity', ...capacityJson(r, thresholds), series: r.series, backlog: r.backlog },
  });
}

function sumErrors(r: CapacityResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of r.steps) for (const [k, v] of Object.entries(s.errors)) out[k] = (out[k] ?? 0) + v;
  return out;
}
