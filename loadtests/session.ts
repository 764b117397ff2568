import { drainVotes, readServices, type ServiceReading } from './drain.ts';
import { PLAN_DEFAULTS, type LoadPlan } from './plan.ts';
import { notReconciled, totalOf, type BacklogPoint, type HeroCounts, type Reconciliation } from './reconcile.ts';
import { probeTarget, readCounts, readCountsBefore } from './target.ts';

// The target's side of a run, around the load: the preflight (the heroes to vote
// for), the recorded votes before, the backlog while votes go in, and the drain
// after. One session can span several loads (the steps of a capacity search) and
// reconcile them all at once.

export type BacklogSource = 'twin-metrics' | 'recorded-vs-accepted' | 'none';

export interface TargetSession {
  heroes: string[];
  /** Recorded votes per hero before the load ({} when not reconciled). */
  before: HeroCounts;
  backlogSource: BacklogSource;
  /**
   * The backlog and the votes recorded since the session opened. Without the services' metrics
   * the backlog is `acceptedSoFar` (the runner's count) − recorded, from /v2/results.
   */
  readBacklog(acceptedSoFar: number): Promise<Omit<BacklogPoint, 't'> | undefined>;
  /**
   * After the load: poll until the drain is judged (counted, lost, not settled). `onPoll` gets
   * the votes recorded so far and the backlog at each read. Without reconciliation: not settled, reason "skipped".
   */
  drain(acceptedByHero: HeroCounts, onPoll?: (recordedDelta: number | undefined, backlog: number | undefined) => void): Promise<Reconciliation>;
}

/**
 * Preflight (unreachable target, wrong key or a data tier that does not answer → UserError), the
 * recorded votes before (when the plan reconciles), and the services' counters at the start.
 */
export async function openSession(plan: Pick<LoadPlan, 'target' | 'key' | 'mix' | 'reconcile' | 'twinMetrics' | 'appMode'>, signal?: AbortSignal): Promise<TargetSession> {
  const heroes = plan.mix?.heroes ?? (await probeTarget(plan.target, plan.key, signal));
  const doReconcile = plan.reconcile !== false;
  const before = doReconcile ? await readCountsBefore(plan.target, plan.key, signal) : {};
  const services = plan.twinMetrics ?? [];
  const readings = services.length ? () => readServices(services, signal) : undefined;
  const zero: ServiceReading | undefined = await readings?.();
  const backlogZero = zero?.backlog;
  const recordedZero = zero?.recorded;
  const backlogSource: BacklogSource = backlogZero !== undefined ? 'twin-metrics' : doReconcile ? 'recorded-vs-accepted' : 'none';
  const settings = plan.reconcile || undefined;
  return {
    heroes,
    before,
    backlogSource,
    async readBacklog(acceptedSoFar) {
      if (backlogZero !== undefined) {
        const r = await readings!();
        if (r.backlog === undefined) return undefined;
        return { votes: Math.max(0, r.backlog - backlogZero), ...(r.recorded !== undefined && recordedZero !== undefined ? { recorded: r.recorded - recordedZero } : {}) };
      }
      if (!doReconcile) return undefined;
      const counts = await readCounts(plan.target, plan.key, signal).catch(() => undefined);
      if (counts === undefined) return undefined;
      const recorded = totalOf(counts) - totalOf(before);
      return { votes: Math.max(0, acceptedSoFar - recorded), recorded };
    },
    async drain(acceptedByHero, onPoll) {
      if (!doReconcile) return notReconciled();
      return drainVotes({
        readCounts: (s) => readCounts(plan.target, plan.key, s),
        ...(readings ? { readServices: readings } : {}),
        ...(plan.appMode ? { mode: plan.appMode } : {}),
        acceptedByHero,
        before,
        policy: { timeoutMs: settings?.drainTimeoutMs ?? PLAN_DEFAULTS.drainTimeoutMs, stableMs: settings?.stableMs ?? PLAN_DEFAULTS.stableMs },
        ...(backlogZero !== undefined ? { backlogZero } : {}),
        ...(signal ? { signal } : {}),
        ...(onPoll ? { onPoll } : {}),
      });
    },
  };
}
