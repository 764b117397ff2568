import { describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { drainDone, sumMetric, waitForDrain, type DrainState } from '../reconcile.ts';

describe('backlog from the twin metrics', () => {
  it('sums every series of a metric and ignores look-alike names', () => {
    const text = [
      `# HELP ${TWIN.votesAccepted} x`,
      `# TYPE ${TWIN.votesAccepted} counter`,
      `${TWIN.votesAccepted}{mode="queue",service="app"} 120`,
      `${TWIN.votesAccepted}{mode="direct",service="app"} 3`,
      `${TWIN.votesAccepted}_created{mode="queue"} 1700000000`,
      `${TWIN.votesRecorded} 100`,
    ].join('\n');
    expect(sumMetric(text, TWIN.votesAccepted)).toBe(123);
    expect(sumMetric(text, TWIN.votesRecorded)).toBe(100);
    expect(sumMetric(text, TWIN.votesProcessed)).toBeUndefined();
  });
});

describe('when the drain is done', () => {
  const state = (o: Partial<DrainState>): DrainState => ({ acceptedTotal: 100, recordedBefore: 10, recorded: 10, stableForMs: 0, elapsedMs: 0, ...o });
  const policy = { timeoutMs: 30_000, stableMs: 3_000 };

  it('stops as soon as every accepted vote is counted', () => {
    expect(drainDone(state({ recorded: 110 }), policy)).toBe(true);
    expect(drainDone(state({ recorded: 109 }), policy)).toBe(false);
  });

  it('stops on a stable count unless the twin still reports a backlog', () => {
    expect(drainDone(state({ recorded: 50, stableForMs: 3_000 }), policy)).toBe(true);
    expect(drainDone(state({ recorded: 50, stableForMs: 3_000, backlog: 0 }), policy)).toBe(true);
    // ernst down: nothing moves, but the queue still holds votes — keep waiting.
    expect(drainDone(state({ recorded: 50, stableForMs: 10_000, backlog: 60 }), policy)).toBe(false);
  });

  it('gives up at the drain timeout', () => {
    expect(drainDone(state({ recorded: 50, backlog: 60, elapsedMs: 30_000 }), policy)).toBe(true);
  });
});

describe('waiting for the drain', () => {
  it('polls until the count reaches the accepted votes and times the drain', async () => {
    const counts = [100, 120, 150, 180, 200];
    let i = 0;
    const t0 = Date.now();
    const r = await waitForDrain({
      readRecorded: async () => counts[Math.min(i++, counts.length - 1)]!,
      readBacklog: async () => undefined,
      acceptedTotal: 100,
      recordedBefore: 100,
      policy: { timeoutMs: 5_000, stableMs: 1_000 },
      pollMs: 20,
    });
    expect(r).toMatchObject({ recordedAfter: 200, timedOut: false });
    expect(r.drainSeconds).toBeGreaterThanOrEqual(0.05);
    expect(r.drainSeconds).toBeLessThanOrEqual((Date.now() - t0) / 1000);
  });

  it('reports a drain that never completes as timed out with the last count', async () => {
    const r = await waitForDrain({
      readRecorded: async () => 40,
      readBacklog: async () => 60,
      acceptedTotal: 100,
      recordedBefore: 0,
      policy: { timeoutMs: 200, stableMs: 50 },
      pollMs: 20,
    });
    expect(r).toMatchObject({ recordedAfter: 40, timedOut: true, drainSeconds: 0 });
  });

  it('keeps the last count and says why when the target stops answering', async () => {
    let n = 0;
    const r = await waitForDrain({
      readRecorded: async () => {
        if (n++ > 1) throw new Error('connect ECONNREFUSED');
        return 70;
      },
      readBacklog: async () => 30,
      acceptedTotal: 100,
      recordedBefore: 0,
      policy: { timeoutMs: 5_000, stableMs: 5_000 },
      pollMs: 10,
    });
    expect(r).toMatchObject({ recordedAfter: 70, error: 'connect ECONNREFUSED' });
  });
});
