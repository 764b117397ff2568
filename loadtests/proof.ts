import type { AppMode } from '../lib/defaults.ts';
import { describeSlo, errorClasses, kneeOf, type CapacityStep, type Slo } from './capacity.ts';
import type { CapacityPlan, CapacityResult } from './capacity-run.ts';
import type { ModeSummary } from './compare.ts';
import type { RunResult } from './engine.ts';
import type { Percentiles } from './figures.ts';
import type { Reconciliation } from './reconcile.ts';

// The capacity proof around a comparison (what `demo` shows), pure: the figures
// kept of each mode's capacity search and burst, the verdict paragraph that says
// what the queue buys (acceptance, latency, bursts) and what it does not (the rate
// votes are stored at), and the loss over everything a mode ran. The phases run in
// compare.ts.

export interface ProofSettings {
  /** Run a capacity search per mode before the trials. */
  capacity?: Omit<CapacityPlan, 'load'>;
  /** After the trials, offer this many votes in one second to each mode; 0 = no burst. */
  burst?: number;
}

/** What a burst did: accepted, failed, how fast it was answered, and how long its votes took to be recorded. */
export interface BurstFigures {
  offered: number;
  accepted: number;
  failed: number;
  errors: Record<string, number>;
  latencyMs: Percentiles;
  outcome: Reconciliation['outcome'];
  lost: number | null;
  extra: number | null;
  drainSeconds: number | null;
  recordedPerSec: number | null;
  backlogAtLoadEnd: number | null;
  predictedDrainSeconds: number | null;
  undrained?: number | null;
  reason?: string;
}

export function burstFigures(offered: number, r: RunResult): BurstFigures {
  return {
    offered,
    accepted: r.acceptedTotal,
    failed: r.failed,
    errors: r.errors,
    latencyMs: r.latencyMs,
    outcome: r.outcome,
    lost: r.lost,
    extra: r.extra,
    drainSeconds: r.drainSeconds,
    recordedPerSec: r.recordedPerSec,
    backlogAtLoadEnd: r.backlogAtLoadEnd,
    predictedDrainSeconds: r.predictedDrainSeconds,
    ...(r.outcome === 'not-settled' ? { undrained: r.undrained ?? null, reason: r.reason ?? 'not settled' } : {}),
  };
}

/** A capacity search as the comparison's JSON carries it (the per-second series stay in summary.json). */
export interface CapacitySummary {
  sustainedPerSec: number;
  brokeBy: CapacityResult['brokeBy'];
  atLeast: boolean;
  verdict: string;
  steps: CapacityStep[];
  reconciliation: Reconciliation;
  acceptedTotal: number;
  partial: boolean;
  unjudged?: string;
}

export function capacitySummary(r: CapacityResult): CapacitySummary {
  return {
    sustainedPerSec: r.sustainedPerSec,
    brokeBy: r.brokeBy,
    atLeast: r.atLeast,
    verdict: r.verdict,
    steps: r.steps,
    reconciliation: r.reconciliation,
    acceptedTotal: r.acceptedTotal,
    partial: r.partial,
    ...(r.unjudged ? { unjudged: r.unjudged } : {}),
  };
}

export interface ProofFigures {
  capacity?: { slo: Slo } & Partial<Record<AppMode, CapacitySummary>>;
  burst?: Partial<Record<AppMode, BurstFigures>>;
}

/** queue.sustainedPerSec ÷ direct.sustainedPerSec; null when either search is missing or direct sustained nothing. */
export function capacityRatio(p: ProofFigures): number | null {
  const d = p.capacity?.direct;
  const q = p.capacity?.queue;
  if (!d || !q || d.sustainedPerSec <= 0) return null;
  return Math.round((q.sustainedPerSec / d.sustainedPerSec) * 100) / 100;
}

/**
 * Votes lost by a mode over everything it ran (trials, capacity search, burst): a loss anywhere
 * shows; null when some part did not settle and none lost votes.
 */
export function lostOverall(mode: AppMode, trials: Pick<ModeSummary, 'lost'>, p: ProofFigures): number | null {
  const parts = [trials.lost, p.capacity?.[mode]?.reconciliation.lost, p.burst?.[mode]?.lost].filter((v) => v !== undefined);
  const known = parts.filter((v): v is number => v !== null);
  const lost = known.reduce((a, b) => a + b, 0);
  return lost > 0 || known.length === parts.length ? lost : null;
}

const n = (v: number) => Math.round(v * 10) / 10;
const ms = (v: number) => (v >= 1000 ? `${n(v / 1000)} s` : `${Math.round(v)} ms`);

function sustains(mode: AppMode, c: CapacitySummary): string {
  // The steps that set the knee (a retried rate's retry, not the run it replaced), as the search judged them.
  const knee = kneeOf(c.steps);
  const good = c.steps.find((s) => s.step === knee.goodStep);
  const p99 = good ? ` at p99 ${ms(good.latencyMs.p99)}` : '';
  const bad = c.steps.find((s) => s.step === knee.badStep);
  if (c.brokeBy === 'generator') return `${mode} mode sustains at least ${n(c.sustainedPerSec)} votes/s${p99} (the load generator, not ${mode} mode, was the limit at ${bad ? n(bad.offeredPerSec) : '?'}/s)`;
  if (c.atLeast) return `${mode} mode sustains at least ${n(c.sustainedPerSec)} votes/s${p99} (the search's upper bound; nothing broke)`;
  const beyond = bad ? ` and falls behind beyond (at ${n(bad.offeredPerSec)}/s it broke by ${bad.brokeBy}: ${bad.brokeBy === 'failures' ? errorClasses(bad.errors) : `p99 ${ms(bad.latencyMs.p99)}, answered ${n(bad.achievedPerSec)}/s`})` : '';
  return `${mode} mode sustains ${n(c.sustainedPerSec)} votes/s${p99}${beyond}`;
}

function burstLine(b: Partial<Record<AppMode, BurstFigures>>): string {
  const parts: string[] = [];
  const q = b.queue;
  const d = b.direct;
  const offered = q?.offered ?? d?.offered ?? 0;
  if (q) parts.push(`queue mode accepted ${q.accepted} at p99 ${ms(q.latencyMs.p99)}${q.drainSeconds !== null ? ` and stored them in ${q.drainSeconds} s after the burst${q.predictedDrainSeconds !== null ? ` (predicted ${q.predictedDrainSeconds} s)` : ''}` : ''}`);
  if (d) parts.push(`direct mode accepted ${d.accepted}${d.failed ? ` and failed ${d.failed} (${errorClasses(d.errors)})` : ''} at p99 ${ms(d.latencyMs.p99)}`);
  return `a ${offered}-vote burst in one second: ${parts.join('; ')}`;
}

/**
 * The verdict paragraph: each mode's sustained capacity and what broke it; what the queue does
 * not change (the rate votes are recorded at, from the trials at a common offered load); the
 * burst; and whether every accepted vote was counted (LOST and NOT SETTLED named).
 */
export function proofVerdict(modes: Record<AppMode, ModeSummary>, p: ProofFigures, offeredPerSec: number | undefined, lost: Record<AppMode, number | null>): string {
  const sentences: string[] = [];
  const c = p.capacity;
  if (c?.direct && c.queue) {
    const ratio = capacityRatio(p);
    sentences.push(`${sustains('direct', c.direct)}; ${sustains('queue', c.queue)}${ratio !== null ? `: ${ratio}× direct` : ''} (${describeSlo(c.slo)})`);
  }
  const d = modes.direct;
  const q = modes.queue;
  if (d.trials && q.trials) {
    const at = offeredPerSec ? ` at ${offeredPerSec} votes/s offered` : '';
    // The same pace is claimed only for modes that counted every vote: a queue that lost
    // votes records fewer, and that shortfall is loss, not the data tier's pace.
    const allCounted = lost.direct === 0 && lost.queue === 0;
    const same = allCounted && q.recordedPerSec !== null && d.recordedPerSec !== null && d.recordedPerSec > 0 && Math.abs(q.recordedPerSec / d.recordedPerSec - 1) <= 0.5;
    const stored =
      q.recordedPerSec === null || d.recordedPerSec === null
        ? `the recorded rate is unknown (a drain did not settle)`
        : same
          ? `queue mode stores no faster than direct mode, at the data tier's pace: ${q.recordedPerSec} vs ${d.recordedPerSec} votes recorded/s${at}`
          : `votes recorded/s${at}: queue mode ${q.recordedPerSec}, direct mode ${d.recordedPerSec}`;
    const accepted = `queue mode accepted ${q.acceptedPerSec}/s (p99 ${ms(q.latencyMs.p99)}), direct mode ${d.acceptedPerSec}/s (p99 ${ms(d.latencyMs.p99)}${d.failed ? `, ${d.failed} failed: ${errorClasses(d.errors)}` : ''})`;
    const backlog =
      q.backlogGrowthPerSec !== null && q.drainSeconds !== null
        ? `; its backlog grew ${q.backlogGrowthPerSec} votes/s and drained in ${q.drainSeconds} s${q.predictedDrainSeconds !== null ? ` (predicted ${q.predictedDrainSeconds} s)` : ''}`
        : '';
    sentences.push(`${stored}; ${accepted}${backlog} (median of ${Math.min(d.trials, q.trials)} trial${Math.min(d.trials, q.trials) === 1 ? '' : 's'})`);
  }
  if (p.burst && (p.burst.queue || p.burst.direct)) sentences.push(burstLine(p.burst));
  const lostModes = (['direct', 'queue'] as const).filter((m) => (lost[m] ?? 0) > 0);
  const unknown = (['direct', 'queue'] as const).filter((m) => lost[m] === null);
  if (!lostModes.length && !unknown.length) sentences.push(`every accepted vote was counted in both modes (lost ${lost.direct}/${lost.queue})`);
  if (lostModes.length) sentences.push(`LOST accepted votes: ${lostModes.map((m) => `${m} ${lost[m]}`).join(', ')}`);
  if (unknown.length) {
    const why = (m: AppMode) => [modes[m].reason, p.capacity?.[m]?.reconciliation.reason, p.burst?.[m]?.reason].filter(Boolean).join('; ');
    sentences.push(`NOT SETTLED, not proven lost: ${unknown.map((m) => `${m} (${why(m)})`).join(', ')}`);
  }
  return sentences.map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join('. ') + '.';
}
