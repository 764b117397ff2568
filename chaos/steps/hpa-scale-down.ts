import type { V2HorizontalPodAutoscaler } from '../../lib/kube.ts';
import { GAMEDAY_DEFAULTS as D, STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { seconds, secs, waitUntil } from '../context.ts';
import { outcome } from '../journal.ts';
import { duration, mapping, objectName } from '../schema/fields.ts';
import { defineStep, type StepContext } from './step.ts';

// After the load: the HPA's CPU falls below its target (judged), then the
// scale-down after the stabilisation window, judged only when waited for.

export interface HpaScaleDownSpec {
  hpa: string;
  metricWithinMs: number;
  /** Wait this long for the scale-down; unset: reported as not observed, with the time it is due. */
  withinMs?: number;
}

/**
 * After the load: the HPA's CPU utilisation falls below its target (judged), then
 * the scale-down, which comes only after the stabilisation window. The scale-down
 * is judged only when the step waits for it (`within`); otherwise it is reported
 * as not observed, with the time it is due.
 */
async function judgeScaleDown(cx: StepContext, step: HpaScaleDownSpec, hpa: V2HorizontalPodAutoscaler): Promise<void> {
  const cpuName = `hpa ${step.hpa} CPU below target after the load`;
  const downName = `hpa ${step.hpa} scales down after its stabilisation window`;
  const target = hpa.spec?.metrics?.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu')?.resource?.target.averageUtilization;
  const windowS = hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300;
  const min = hpa.spec?.minReplicas ?? 1;
  const peak = hpa.status?.currentReplicas ?? 0;
  cx.journal.measure('hpaStabilizationWindowS', windowS);
  const util = (h: typeof hpa) => h.status?.currentMetrics?.find((m) => m.type === 'Resource')?.resource?.current.averageUtilization;
  const below = await waitUntil(
    () => cx.kube.getHpa(cx.namespace, step.hpa),
    (h) => target !== undefined && (util(h) ?? Infinity) < target,
    { timeoutMs: step.metricWithinMs, pollMs: cx.pollMs, signal: cx.signal },
  );
  cx.journal.verdict({
    name: cpuName,
    outcome: outcome(below.ok),
    reason: below.ok
      ? `CPU fell to ${util(below.value)}% (target ${target}%) ${seconds(below.elapsedMs)} after the load stopped`
      : `CPU utilisation still ${util(below.value) ?? 'unknown'}% (target ${target ?? '?'}%) ${seconds(below.elapsedMs)} after the load stopped`,
  });
  if (peak <= min) {
    cx.journal.verdict({ name: downName, outcome: 'not observed', reason: `no scale-down to observe: ${peak} replica(s), at its minimum (${min})` });
    return;
  }
  if (!below.ok) {
    cx.journal.verdict({ name: downName, outcome: 'not observed', reason: `not waited for: CPU never fell below target, so no scale-down is due` });
    return;
  }
  if (!step.withinMs) {
    const dueAt = new Date(Date.now() + windowS * 1000).toISOString();
    cx.journal.verdict({
      name: downName,
      outcome: 'not observed',
      reason: `not waited for: a scale-down from ${peak} is due after the ${windowS} s stabilisation window, around ${dueAt} (set the step's within to wait for it)`,
    });
    return;
  }
  const down = await waitUntil(() => cx.kube.getHpa(cx.namespace, step.hpa), (h) => (h.status?.currentReplicas ?? peak) < peak, {
    timeoutMs: step.withinMs,
    pollMs: cx.pollMs,
    signal: cx.signal,
  });
  const now = down.value.status?.currentReplicas;
  if (down.ok) cx.journal.measure('hpaScaleDownMs', below.elapsedMs + down.elapsedMs);
  cx.journal.verdict({
    name: downName,
    outcome: outcome(down.ok),
    reason: down.ok
      ? `scaled from ${peak} to ${now} ${seconds(below.elapsedMs + down.elapsedMs)} after the load stopped (stabilisation window ${windowS} s, minimum ${min})`
      : `still ${now} replicas ${seconds(below.elapsedMs + down.elapsedMs)} after the load stopped (stabilisation window ${windowS} s)`,
  });
}

export const hpaScaleDown = defineStep({
  kind: 'hpa-scale-down',
  schema: mapping({ hpa: objectName, metricWithin: duration(1).optional(), within: duration().optional() })
    .meta({ id: 'hpa-scale-down' })
    .transform((b): HpaScaleDownSpec => ({ hpa: b.hpa, metricWithinMs: b.metricWithin ?? D.hpaMetricWithinMs, withinMs: b.within || undefined })),
  describe: (s) =>
    `after the load: hpa ${s.hpa} CPU below target within ${secs(s.metricWithinMs)}, then scale-down after its stabilisation window${s.withinMs ? ` (waited up to ${secs(s.withinMs)})` : ' (not waited for: reported as not observed)'}`,
  limitMs: (s) => s.metricWithinMs + (s.withinMs ?? 0) + STEP_LIMIT_SLACK_MS,
  prepare: (cx, s) => cx.kube.getHpa(cx.namespace, s.hpa),
  dryRun: () => undefined,
  run: judgeScaleDown,
});
