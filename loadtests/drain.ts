import { TWIN } from '../lib/catalog.ts';
import type { AppMode } from '../lib/defaults.ts';
import { describeError } from '../lib/errors.ts';
import { compareCounts, DRAIN_POLL_MS, judgeDrain, reconciliationOf, sumMetric, totalOf, type Consumer, type DrainPolicy, type DrainState, type HeroCounts, type MetricsTarget, type Reconciliation } from './reconcile.ts';

// The edge of the reconciliation: scraping the services' /metrics (queue backlog,
// the consumer's state) and polling the recorded count after the load until
// reconcile.ts judges the drain over. Reads that fail are retried with backoff
// within the drain timeout.

/** What the services' metrics say at one moment. */
export interface ServiceReading {
  /** app accepted − data recorded (raw totals: callers subtract the value at the start). */
  backlog?: number;
  /** data's recorded votes (a raw total: callers subtract the value at the start). */
  recorded?: number;
  /** The app's mode from `myhero_app_mode`, when exposed. */
  mode?: AppMode;
  /** ernst, when its metrics are known: reachable, connected to the broker, processed + retried so far. */
  ernst?: { reachable: boolean; connected?: boolean; progress?: number };
}

async function scrape(url: string, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(2000);
  const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text();
}

/** The app's `myhero_app_mode{mode="..."} 1` line: the mode in force. */
const APP_MODE_LINE = new RegExp(`^${TWIN.appMode}\\{[^}]*mode="(direct|queue)"[^}]*\\} 1$`, 'gm');

/** Scrape every target; a target of service `any` may hold any service's series (e.g. a Prometheus /federate). */
export async function readServices(targets: readonly MetricsTarget[], signal?: AbortSignal): Promise<ServiceReading> {
  const texts = await Promise.all(targets.map(async (t) => ({ service: t.service, text: await scrape(t.url, signal).catch(() => undefined) })));
  const sum = (services: string[], name: string): number | undefined => {
    let total: number | undefined;
    for (const t of texts) {
      if (!services.includes(t.service) || t.text === undefined) continue;
      const v = sumMetric(t.text, name);
      if (v !== undefined) total = (total ?? 0) + v;
    }
    return total;
  };
  const reading: ServiceReading = {};
  const appOk = texts.some((t) => t.service === 'app' && t.text !== undefined);
  const dataOk = texts.some((t) => t.service === 'data' && t.text !== undefined);
  const accepted = sum(['app', 'any'], TWIN.votesAccepted);
  const recorded = sum(['data', 'any'], TWIN.votesRecorded);
  const hasAppTarget = targets.some((t) => t.service === 'app');
  const hasDataTarget = targets.some((t) => t.service === 'data');
  // A named target that did not answer makes the backlog unknown rather than wrong.
  if (accepted !== undefined && recorded !== undefined && (!hasAppTarget || appOk) && (!hasDataTarget || dataOk)) reading.backlog = accepted - recorded;
  if (recorded !== undefined && (!hasDataTarget || dataOk)) reading.recorded = recorded;
  for (const { text } of texts) for (const m of text?.matchAll(APP_MODE_LINE) ?? []) reading.mode = m[1] as AppMode;
  const ernstTargets = texts.filter((t) => t.service === 'ernst');
  const connected = sum(['ernst', 'any'], TWIN.ernstConnected);
  const processed = sum(['ernst', 'any'], TWIN.votesProcessed);
  if (ernstTargets.length || connected !== undefined) {
    const reachable = ernstTargets.length ? ernstTargets.every((t) => t.text !== undefined) : true;
    reading.ernst = {
      reachable,
      ...(connected !== undefined ? { connected: connected > 0 } : {}),
      ...(processed !== undefined ? { progress: processed + (sum(['ernst', 'any'], TWIN.ernstRetries) ?? 0) } : {}),
    };
  }
  return reading;
}

/**
 * The consumer as the drain judges it: the plan's mode wins over what the metrics say.
 * `settledProgress`: the progress the consumer has held for the whole stable window (undefined
 * while it still moved within it); a consumer at that progress is idle.
 */
export function consumerOf(reading: ServiceReading | undefined, mode: AppMode | undefined, settledProgress: number | undefined): Consumer {
  const m = mode ?? reading?.mode;
  if (m === 'direct') return { kind: 'none' };
  const e = reading?.ernst;
  if (!e) return { kind: 'unknown' };
  if (!e.reachable) return { kind: 'queue', connected: false, progressing: false, detail: "ernst's metrics do not answer (is ernst running?)" };
  if (e.connected === undefined) return { kind: 'unknown' };
  return { kind: 'queue', connected: e.connected, progressing: e.progress !== settledProgress, ...(e.connected ? {} : { detail: 'ernst is not connected to the broker' }) };
}

export interface DrainOptions {
  /** GET /v2/results: recorded votes per hero. */
  readCounts: (signal?: AbortSignal) => Promise<HeroCounts>;
  /** The services' metrics, when known. */
  readServices?: () => Promise<ServiceReading>;
  mode?: AppMode;
  acceptedByHero: HeroCounts;
  before: HeroCounts;
  policy: DrainPolicy;
  /** Aborted (Ctrl-C): one quick read, no waiting. */
  signal?: AbortSignal;
  pollMs?: number;
  /** After each poll: votes recorded so far in this run (when read) and the backlog. */
  onPoll?: (recordedDelta: number | undefined, backlog: number | undefined) => void;
  /** Backlog of the services at the start, subtracted from later readings. */
  backlogZero?: number;
}

const MAX_BACKOFF_MS = 2000;

/** Poll after the load until judgeDrain says the drain is over; `drainSeconds` ends at the count's last change. */
export async function drainVotes(o: DrainOptions): Promise<Reconciliation> {
  const start = Date.now();
  const pollMs = o.pollMs ?? DRAIN_POLL_MS;
  const interrupted = Boolean(o.signal?.aborted);
  let lastTotal: number | undefined;
  let lastChange = start;
  // The consumer is idle once its progress has not moved for the stable window, judged on its
  // own clock: the count and the metrics are read at slightly different moments.
  let lastProgress: number | undefined;
  let progressChangedAt = start;
  let failures = 0;
  const state: DrainState = { acceptedByHero: o.acceptedByHero, stableForMs: 0, elapsedMs: 0, consumer: { kind: 'unknown' }, ...(interrupted ? { interrupted } : {}) };
  for (;;) {
    const [counts, reading] = await Promise.all([
      // After Ctrl-C one quick read, so the command still stops within 2 s.
      o.readCounts(interrupted ? AbortSignal.timeout(500) : undefined).then(
        (c) => ({ ok: c }),
        (err: unknown) => ({ error: describeError(err) }),
      ),
      interrupted ? undefined : o.readServices?.().catch(() => undefined),
    ]);
    const t = Date.now();
    if ('ok' in counts) {
      const total = totalOf(counts.ok);
      if (lastTotal !== undefined && total !== lastTotal) {
        lastChange = t;
      }
      lastTotal = total;
      state.counts = compareCounts(o.acceptedByHero, o.before, counts.ok);
      delete state.readError;
      failures = 0;
    } else {
      state.readError = counts.error;
      failures += 1;
    }
    const progress = reading?.ernst?.progress;
    if (progress !== lastProgress) {
      lastProgress = progress;
      progressChangedAt = t;
    }
    state.consumer = consumerOf(reading, o.mode, t - progressChangedAt >= o.policy.stableMs ? progress : undefined);
    state.stableForMs = t - lastChange;
    state.elapsedMs = t - start;
    const backlog = reading?.backlog !== undefined ? Math.max(0, reading.backlog - (o.backlogZero ?? 0)) : state.counts ? state.counts.lost : undefined;
    o.onPoll?.(state.counts?.recordedDelta, backlog);
    const verdict = judgeDrain(state, o.policy);
    if (verdict.done) return reconciliationOf(state, verdict, (lastChange - start) / 1000);
    // Failed reads back off (250 ms, 500 ms, 1 s, 2 s ...) within the drain timeout.
    const wait = failures ? Math.min(MAX_BACKOFF_MS, pollMs * 2 ** (failures - 1)) : pollMs;
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, start + o.policy.timeoutMs - Date.now()))));
  }
}
