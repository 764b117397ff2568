// What the queue buys and what it does not: votes are *recorded* no faster than
// the data tier takes them, in either mode. From a run's load time, its drain and
// the count read when the load ended: the recorded rate over load plus drain, the
// backlog's growth during the load, and the drain time that growth predicts (to
// check against the measured drain). Pure.

export interface StoredRate {
  /** Seconds from the start of the load until its last answer. */
  loadSeconds: number;
  /** Votes recorded per second over the load plus the drain; null when the drain did not settle. */
  recordedPerSec: number | null;
  /** Accepted votes not yet recorded when the load ended; null when the count was not read then. */
  backlogAtLoadEnd: number | null;
  /** (accepted − recorded) per second during the load: how fast the backlog grew. */
  backlogGrowthPerSec: number | null;
  /** The backlog at the end of the load ÷ the rate votes were recorded during it; null when nothing was recorded. */
  predictedDrainSeconds: number | null;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function storedRate(i: {
  loadSeconds: number;
  acceptedTotal: number;
  /** Votes recorded over the load and the drain (null: never read). */
  recordedDelta: number | null;
  /** null when the drain did not settle. */
  drainSeconds: number | null;
  /** Votes recorded by the end of the load (the drain's first read), when read. */
  recordedAtLoadEnd?: number;
}): StoredRate {
  const load = Math.max(0.001, i.loadSeconds);
  const settled = i.drainSeconds !== null && i.recordedDelta !== null;
  const recordedPerSec = settled ? round1(i.recordedDelta! / (load + i.drainSeconds!)) : null;
  if (i.recordedAtLoadEnd === undefined) return { loadSeconds: round1(load), recordedPerSec, backlogAtLoadEnd: null, backlogGrowthPerSec: null, predictedDrainSeconds: null };
  const backlog = Math.max(0, i.acceptedTotal - i.recordedAtLoadEnd);
  const recordRate = i.recordedAtLoadEnd / load;
  return {
    loadSeconds: round1(load),
    recordedPerSec,
    backlogAtLoadEnd: backlog,
    backlogGrowthPerSec: round1(backlog / load),
    predictedDrainSeconds: backlog === 0 ? 0 : recordRate > 0 ? round1(backlog / recordRate) : null,
  };
}
