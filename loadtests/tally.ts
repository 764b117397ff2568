import type * as hdr from 'hdr-histogram-js';
import { bucketIndex, emptyInterval, emptyTally, encodeHistogram, latencyHistogram, type Interval, type Tally } from './accounting.ts';
import type { Route } from './mix.ts';
import type { Outcome } from './votes.ts';

// What one shard counted, pure: every finished request (its outcome, when it was
// meant to go out, when it finished) goes into the whole-run tally, the measured
// window (after the warm-up, by intended time), any step windows, the per-second
// series (by completion time) and the HDR latency histograms. No clock, no I/O:
// callers pass the times, so tests feed it directly.

/** A slice of the run by intended send time, in ms after the start (e.g. one fixed-rate step). */
export interface TallyWindow {
  startMs: number;
  endMs: number;
}

export interface WindowTally {
  tally: Tally;
  /** Encoded HDR histogram (µs) of the window's vote latencies. */
  latency: string;
}

export interface TallyResult {
  /** The whole run, warm-up included (what reconciliation compares with). */
  total: Tally;
  /** Requests intended after the warm-up. */
  measured: Tally;
  /** Encoded HDR histogram (µs) of measured vote latencies. */
  latency: string;
  /** Votes accepted per hero over the whole run, for the per-hero reconciliation. */
  acceptedByHero: Record<string, number>;
  windows: WindowTally[];
  /** Encoded HDR histogram (µs) of how late sends left against their planned time: the generator's own lag. */
  sendLag: string;
  /** When the last answer (or failure) came: the end of the measured window, graceful tail included. */
  lastAnswerAt: number;
}

function count(t: Tally, route: Route, outcome: Outcome): void {
  t.requests += 1;
  if (route !== 'vote') {
    if (outcome !== 'accepted') t.readErrors += 1;
    return;
  }
  t.attempted += 1;
  if (outcome === 'accepted') t.accepted += 1;
  else t.errors[outcome] = (t.errors[outcome] ?? 0) + 1;
}

export class ShardTally {
  private readonly total = emptyTally();
  private readonly measured = emptyTally();
  private readonly latency = latencyHistogram();
  private readonly lag = latencyHistogram();
  private readonly windows: { window: TallyWindow; tally: Tally; latency: hdr.Histogram }[];
  private readonly acceptedByHero = new Map<string, number>();
  /** Seconds not yet taken, by index. */
  private readonly seconds: (Interval | undefined)[] = [];
  private nextSecond = 0;
  private lastAnswerAt = 0;

  constructor(
    private readonly startAt: number,
    private readonly warmupMs: number,
    windows: readonly TallyWindow[] = [],
  ) {
    this.windows = windows.map((window) => ({ window, tally: emptyTally(), latency: latencyHistogram() }));
  }

  private second(at: number): Interval {
    const t = Math.max(0, Math.floor((at - this.startAt) / 1000));
    return (this.seconds[t] ??= emptyInterval(t));
  }

  /**
   * One finished request: its route, the hero voted for (votes), when it was meant to go out
   * (latency is measured from there), when it finished, and how. Positional: it runs for every
   * request and allocates nothing.
   */
  record(route: Route, hero: string | undefined, intendedAt: number, doneAt: number, outcome: Outcome): void {
    if (doneAt > this.lastAnswerAt) this.lastAnswerAt = doneAt;
    const sec = this.second(doneAt);
    count(sec, route, outcome);
    count(this.total, route, outcome);
    const intendedMs = intendedAt - this.startAt;
    const measured = intendedMs >= this.warmupMs;
    if (measured) count(this.measured, route, outcome);
    const isVote = route === 'vote';
    const latencyMs = doneAt - intendedAt;
    const us = Math.max(1, Math.round(latencyMs * 1000));
    for (let k = 0; k < this.windows.length; k++) {
      const w = this.windows[k]!;
      if (intendedMs < w.window.startMs || intendedMs >= w.window.endMs) continue;
      count(w.tally, route, outcome);
      if (isVote) w.latency.recordValue(us);
    }
    if (!isVote) return;
    if (outcome === 'accepted' && hero !== undefined) this.acceptedByHero.set(hero, (this.acceptedByHero.get(hero) ?? 0) + 1);
    sec.latencyBuckets[bucketIndex(latencyMs)]! += 1;
    sec.latencySumMs += latencyMs;
    if (measured) this.latency.recordValue(us);
  }

  /** A request went out on a new connection at `at`. */
  reconnect(at: number): void {
    this.second(at).reconnects += 1;
    this.total.reconnects += 1;
    if (at - this.startAt >= this.warmupMs) this.measured.reconnects += 1;
  }

  /** A send left `ms` after its planned time (a late timer: the generator, not the target). */
  sendLate(ms: number): void {
    this.lag.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** The seconds before index `upTo` not yet taken, in order, empty ones included. */
  takeSeconds(upTo: number): Interval[] {
    const out: Interval[] = [];
    for (; this.nextSecond < upTo; this.nextSecond++) {
      out.push(this.seconds[this.nextSecond] ?? emptyInterval(this.nextSecond));
      this.seconds[this.nextSecond] = undefined;
    }
    return out;
  }

  /** Every second not yet taken. */
  takeRest(): Interval[] {
    return this.takeSeconds(Math.max(this.seconds.length, this.nextSecond));
  }

  /** The shard's totals; the tally must not be used afterwards (its histograms are freed). */
  result(): TallyResult {
    const result: TallyResult = {
      total: this.total,
      measured: this.measured,
      latency: encodeHistogram(this.latency),
      acceptedByHero: Object.fromEntries(this.acceptedByHero),
      windows: this.windows.map((w) => ({ tally: w.tally, latency: encodeHistogram(w.latency) })),
      sendLag: encodeHistogram(this.lag),
      lastAnswerAt: this.lastAnswerAt,
    };
    for (const h of [this.latency, this.lag, ...this.windows.map((w) => w.latency)]) h.destroy();
    return result;
  }
}
