import { TWIN } from '../lib/catalog.ts';
import { describeError } from '../lib/errors.ts';

// Did every accepted vote get counted? While the load runs and afterwards, watch
// the queue backlog; after the load, poll the recorded count until it is stable
// (bounded by the drain timeout). The decisions are pure; the polling is the edge.

/** A /metrics endpoint of the twin, as lab.metricsTargets lists them. */
export interface MetricsTarget {
  service: string;
  url: string;
}

export interface BacklogPoint {
  /** Seconds since the load started. */
  t: number;
  votes: number;
}

/** Sum every series of a metric in a Prometheus text exposition (undefined when absent). */
export function sumMetric(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

async function scrape(url: string, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(2000);
  const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text();
}

/**
 * Votes the app has accepted but data has not yet recorded, from the twin's own
 * counters (app accepted − data recorded), as raw totals; callers subtract the
 * value at the start. Undefined when the twin's metrics are not reachable.
 */
export async function readTwinBacklog(targets: readonly MetricsTarget[], signal?: AbortSignal): Promise<number | undefined> {
  const app = targets.filter((t) => t.service === 'app');
  const data = targets.filter((t) => t.service === 'data');
  if (!app.length || !data.length) return undefined;
  try {
    const [accepted, recorded] = await Promise.all([
      Promise.all(app.map(async (t) => sumMetric(await scrape(t.url, signal), TWIN.votesAccepted) ?? 0)),
      Promise.all(data.map(async (t) => sumMetric(await scrape(t.url, signal), TWIN.votesRecorded) ?? 0)),
    ]);
    return accepted.reduce((a, b) => a + b, 0) - recorded.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

export interface DrainState {
  /** Votes the run got accepted, warm-up included. */
  acceptedTotal: number;
  recordedBefore: number;
  recorded: number;
  /** Backlog from the twin's metrics, when known. */
  backlog?: number;
  /** ms since the recorded count last changed. */
  stableForMs: number;
  /** ms since the drain started. */
  elapsedMs: number;
}

export interface DrainPolicy {
  timeoutMs: number;
  /** The count must not move for this long before an unfinished drain is called done. */
  stableMs: number;
}

/** Stop polling when every accepted vote is counted, when the count is stable and no backlog is known, or at the timeout. */
export function drainDone(s: DrainState, p: DrainPolicy): boolean {
  if (s.recorded - s.recordedBefore >= s.acceptedTotal) return true;
  if (s.elapsedMs >= p.timeoutMs) return true;
  const backlogKnownNonZero = s.backlog !== undefined && s.backlog > 0;
  return s.stableForMs >= p.stableMs && !backlogKnownNonZero;
}

export interface DrainResult {
  recordedAfter: number;
  drainSeconds: number;
  timedOut: boolean;
  /** Why the drain could not be read (target gone); the last count read stands. */
  error?: string;
}

/**
 * Poll the recorded count after the load until `drainDone`. `drainSeconds` is the time
 * from the end of the load to the last change of the count.
 */
export async function waitForDrain(opts: {
  readRecorded: () => Promise<number>;
  readBacklog: () => Promise<number | undefined>;
  acceptedTotal: number;
  recordedBefore: number;
  policy: DrainPolicy;
  pollMs?: number;
  signal?: AbortSignal;
  onPoll?: (recorded: number, backlog: number | undefined) => void;
}): Promise<DrainResult> {
  const start = Date.now();
  const pollMs = opts.pollMs ?? 250;
  let recorded = opts.recordedBefore;
  let lastChange = start;
  let first = true;
  for (;;) {
    let backlog: number | undefined;
    try {
      const [r, b] = await Promise.all([opts.readRecorded(), opts.readBacklog()]);
      backlog = b;
      if (!first && r !== recorded) lastChange = Date.now();
      recorded = r;
    } catch (err) {
      const error = opts.signal?.aborted ? undefined : describeError(err);
      return { recordedAfter: recorded, drainSeconds: (lastChange - start) / 1000, timedOut: false, ...(error ? { error } : {}) };
    }
    first = false;
    opts.onPoll?.(recorded, backlog);
    const t = Date.now();
    const state = { acceptedTotal: opts.acceptedTotal, recordedBefore: opts.recordedBefore, recorded, backlog, stableForMs: t - lastChange, elapsedMs: t - start };
    if (drainDone(state, opts.policy) || opts.signal?.aborted) {
      const timedOut = state.elapsedMs >= opts.policy.timeoutMs && recorded - opts.recordedBefore < opts.acceptedTotal;
      return { recordedAfter: recorded, drainSeconds: (lastChange - start) / 1000, timedOut };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
