import { levelAt } from '../schedule.ts';
import type { ShardSpec } from '../shard.ts';
import type { Pacer, PacerTiming } from './index.ts';

// Closed model: each connection is a voter who votes as soon as the previous
// answer came (plus think time). Under stages a voter is active while the
// profile's level exceeds its global index, so ramps add and remove voters.

/** After a refused or reset connection a voter waits this long before trying again, as a person would. */
const RETRY_AFTER_MS = 100;
/** How often an inactive voter checks whether a ramp has made it active. */
const RAMP_POLL_MS = 50;

export function closedPacer(spec: Pick<ShardSpec, 'profile' | 'thinkMs' | 'shard' | 'shards'>, { startAt, endAt }: PacerTiming): Pacer {
  const lastDoneAt: number[] = [];
  const retryAt: number[] = [];
  return {
    next(slot, now) {
      const earliest = Math.max(now, (lastDoneAt[slot] ?? -Infinity) + spec.thinkMs, retryAt[slot] ?? 0);
      if (earliest >= endAt) return undefined;
      const voter = spec.shard + slot * spec.shards;
      if (levelAt(spec.profile, earliest - startAt) <= voter) return { at: earliest + RAMP_POLL_MS, recheck: true };
      // A voter's latency counts from when it actually sends: that is what a closed model measures.
      return earliest > now ? { at: earliest, recheck: true } : { at: now, intendedAt: now };
    },
    finished(slot, at, connectionFailed) {
      lastDoneAt[slot] = at;
      if (connectionFailed) retryAt[slot] = at + RETRY_AFTER_MS;
    },
    dropped: () => 0,
  };
}
