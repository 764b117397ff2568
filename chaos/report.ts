import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAOS_ANNOTATION_TAG } from '../lib/defaults.ts';
import type { GrafanaClient } from '../lib/grafana-client.ts';
import { escapeHtml, paragraph, renderPage, table } from '../lib/report/html.ts';
import { lineChart } from '../lib/report/svg.ts';
import type { JournalData } from './journal.ts';

// The journal as a report: Markdown for a pull request or a wiki, and a
// self-contained HTML page with the timeline (ready replicas, HPA replicas,
// vote error rate, chaos actions marked). Optionally the actions become Grafana
// annotations tagged `chaos`, which the game-day dashboard overlays.

const s = (ms: number) => +(ms / 1000).toFixed(2);

export function verdictLine(j: JournalData): string {
  if (j.dryRun) return j.status === 'completed' ? 'DRY RUN: nothing was changed' : `DRY RUN STOPPED: ${j.error}`;
  const failed = j.verdicts.filter((v) => v.outcome === 'fail');
  const unseen = j.verdicts.filter((v) => v.outcome === 'not observed');
  if (j.status === 'interrupted') return 'INTERRUPTED: stopped by Ctrl-C, rollbacks ran';
  if (j.status === 'aborted') return `ABORTED: ${j.error}`;
  const notObserved = unseen.length ? `; NOT OBSERVED: ${unseen.map((v) => v.name).join('; ')}` : '';
  if (failed.length === 0) return `PASS: ${j.verdicts.length - unseen.length} verdict(s) passed${notObserved}`;
  return `FAIL: ${failed.map((v) => v.name).join('; ')}${notObserved}`;
}

/** How an outcome is written in the reports and on the terminal. */
export const outcomeText = (v: { outcome: string }): string => (v.outcome === 'pass' ? 'pass' : v.outcome === 'fail' ? 'FAIL' : 'NOT OBSERVED');

/** Actions worth a marker on the chart (not every per-pod line of a drain). */
function markers(j: JournalData): { x: number; label: string }[] {
  return j.actions.filter((a) => !a.dryRun && a.ok).map((a) => ({ x: s(a.t), label: a.name }));
}

/** Windows (an injected fault) shaded on the chart; one never closed lasts to the end of the run. */
function bands(j: JournalData): { from: number; to: number; label: string }[] {
  return j.windows.map((w) => ({ from: s(w.from), to: s(w.to ?? j.durationMs ?? w.from), label: w.name }));
}

/** The timeline's rows: steps (start and end), windows, actions, probes, rollbacks, by time. */
function timelineRows(j: JournalData): { t: number; what: string; detail: string }[] {
  return [
    ...j.steps.map((x) => ({
      t: x.t,
      what: `step ${x.index}: ${x.kind}`,
      detail: `${x.description} — ${x.status}${x.durationMs !== undefined ? ` after ${s(x.durationMs)} s` : ''}${x.error ? `: ${x.error}` : ''}`,
    })),
    ...j.windows.flatMap((w) => [
      { t: w.from, what: `${w.name} begins`, detail: 'in force from here' },
      ...(w.to !== undefined ? [{ t: w.to, what: `${w.name} ends`, detail: `in force ${s(w.to - w.from)} s` }] : []),
    ]),
    ...j.actions.map((a) => ({ t: a.t, what: `${a.dryRun ? 'would ' : ''}${a.name}${a.ok ? '' : ' (failed)'}`, detail: a.error ? `${a.detail}: ${a.error}` : a.detail })),
    ...j.probes.map((p) => ({ t: p.t, what: `probe ${p.name} (${p.phase})`, detail: `${p.ok ? 'ok' : 'FAILED'}: ${p.reason}` })),
    ...j.rollbacks.map((r) => ({ t: r.t, what: `rollback ${r.name}`, detail: r.ok ? 'done' : `FAILED: ${r.error}; restore by hand: \`${r.command}\`` })),
  ].sort((a, b) => a.t - b.t);
}

export function renderMarkdown(j: JournalData): string {
  const out: string[] = [`# ${j.title}`, '', `**${verdictLine(j)}**`, ''];
  out.push(`- command: \`${j.command}\``, `- namespace: \`${j.namespace}\`, context \`${j.context}\` (${j.server})`, `- started ${j.startedAt}, ${j.durationMs !== undefined ? `${s(j.durationMs)} s` : 'unfinished'}, status ${j.status}`);
  if (j.error) out.push(`- ${j.error}`);
  out.push('', '## Verdicts', '', '| verdict | result | why |', '| --- | --- | --- |');
  for (const v of j.verdicts) out.push(`| ${v.name} | ${v.outcome === 'pass' ? 'pass' : `**${outcomeText(v)}**`} | ${v.reason.replace(/\|/g, '\\|')} |`);
  if (Object.keys(j.measurements).length) {
    out.push('', '## Measurements', '');
    for (const [k, v] of Object.entries(j.measurements)) out.push(`- ${k}: ${k.endsWith('Ms') ? `${s(v)} s` : v}`);
  }
  out.push('', '## Plan', '', '```', ...j.plan, '```');
  out.push('', '## Timeline', '', '| t (s) | what | detail |', '| --- | --- | --- |');
  for (const r of timelineRows(j)) out.push(`| ${s(r.t)} | ${r.what} | ${r.detail.replace(/\|/g, '\\|')} |`);
  if (j.events.length) {
    out.push('', `## Kubernetes events observed (${j.events.length})`, '', '| t (s) | type | reason | object | message |', '| --- | --- | --- | --- | --- |');
    for (const e of j.events) out.push(`| ${s(e.t)} | ${e.type} | ${e.reason} | ${e.object} | ${e.message.replace(/\|/g, '\\|')} |`);
  }
  out.push('', '## Conditions', '');
  for (const [k, v] of Object.entries(j.conditions)) out.push(`- ${k}: ${v}`);
  return `${out.join('\n')}\n`;
}

export function renderHtml(j: JournalData): string {
  const pts = (pick: (x: JournalData['samples'][number]) => number | undefined) =>
    j.samples.flatMap((x) => (pick(x) === undefined ? [] : [[s(x.t), pick(x)!] as const]));
  const replicaSeries = [
    { name: 'ready replicas', points: pts((x) => x.readyReplicas) },
    { name: 'HPA replicas', points: pts((x) => x.hpaReplicas) },
    { name: 'HPA desired', points: pts((x) => x.hpaDesiredReplicas), dashed: true },
  ].filter((x) => x.points.length > 0);
  const errorPoints = pts((x) => (x.errorRate === undefined ? undefined : x.errorRate * 100));
  const sections = [
    {
      heading: 'Verdicts',
      html: table(
        ['verdict', 'result', 'why'],
        j.verdicts.map((v) => [
          v.name,
          { html: v.outcome === 'pass' ? 'pass' : `<strong style="color:${v.outcome === 'fail' ? '#b00' : '#a60'}">${outcomeText(v)}</strong>` },
          v.reason,
        ]),
      ),
    },
    {
      heading: 'Timeline',
      html:
        lineChart({ title: 'Replicas', xLabel: 'seconds since start', yLabel: 'replicas', series: replicaSeries, markers: markers(j), bands: bands(j), step: true }) +
        (errorPoints.length
          ? lineChart({
              title: 'Vote error rate',
              xLabel: 'seconds since start',
              yLabel: '% of votes failed',
              series: [{ name: 'error rate %', points: errorPoints, color: '#d62728' }],
              markers: markers(j),
              bands: bands(j),
            })
          : paragraph('No load ran during this experiment, so there is no error-rate series.')),
    },
    ...(Object.keys(j.measurements).length
      ? [{ heading: 'Measurements', html: table(['measurement', 'value'], Object.entries(j.measurements).map(([k, v]) => [k, k.endsWith('Ms') ? `${s(v)} s` : v])) }]
      : []),
    { heading: 'Plan', html: `<pre>${escapeHtml(j.plan.join('\n'))}</pre>` },
    {
      heading: 'Steps, actions, probes and rollbacks',
      html: table(
        ['t (s)', 'what', 'detail'],
        timelineRows(j).map((r) => [s(r.t), r.what, r.detail]),
      ),
    },
    {
      heading: `Kubernetes events observed (${j.events.length})`,
      html: table(['t (s)', 'type', 'reason', 'object', 'message'], j.events.map((e) => [s(e.t), e.type, e.reason, e.object, e.message])),
    },
  ];
  return renderPage({
    title: j.title,
    lead: verdictLine(j),
    warning: j.status === 'interrupted' ? 'Interrupted by Ctrl-C: this report covers the run up to the interruption; rollbacks ran.' : undefined,
    sections,
    conditions: { command: j.command, namespace: j.namespace, context: j.context, server: j.server, startedAt: j.startedAt, status: j.status, ...j.conditions },
    generatedAt: new Date(),
  });
}

/** Write journal.json, report.md and report.html into `dir`; returns their paths. */
export function writeReports(j: JournalData, dir: string): { journal: string; markdown: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { journal: join(dir, 'journal.json'), markdown: join(dir, 'report.md'), html: join(dir, 'report.html') };
  writeFileSync(paths.journal, `${JSON.stringify(j, null, 2)}\n`);
  writeFileSync(paths.markdown, renderMarkdown(j));
  writeFileSync(paths.html, renderHtml(j));
  return paths;
}

/** POST each chaos action as a Grafana annotation (tags: chaos + the command); returns how many were created. */
export async function pushAnnotations(j: JournalData, grafana: GrafanaClient): Promise<number> {
  const start = new Date(j.startedAt).getTime();
  const kind = j.command.split(' ')[0]!;
  let n = 0;
  for (const a of j.actions.filter((x) => !x.dryRun)) {
    const res = await grafana.request('POST', '/api/annotations', {
      time: start + a.t,
      tags: [CHAOS_ANNOTATION_TAG, kind, a.name],
      text: `${j.title}: ${a.name} ${a.detail}${a.ok ? '' : ' (failed)'}`,
    });
    if (res.status === 401 || res.status === 403) throw new Error(`Grafana at ${grafana.url} refused the annotation (HTTP ${res.status}): check the credentials and the Editor role`);
    if (res.status < 200 || res.status >= 300) throw new Error(`Grafana at ${grafana.url} answered HTTP ${res.status} to POST /api/annotations`);
    n += 1;
  }
  return n;
}
