import { arrivalMs } from '../schedule.ts';
import type { ShardSpec } from '../shard.ts';
import type { Pacer, PacerTiming } from './index.ts';

// Open model: arrivals on a fixed schedule (the profile's level is the rate per
// second; constant, ramping, or fixed-rate steps with pauses between them),
// whatever the answers do. Shards take every `shards`-th arrival; a free
// connection takes the next one and sends it at its intended time, or at once
// if it is already late, and latency counts from the intended time (no
// coordinated omission). Arrivals still waiting for a connection when the run
// ends are dropped, and counted.

export function openPacer(spec: Pick<ShardSpec, 'profile' | 'shard' | 'shards'>, { startAt, endAt }: PacerTiming): Pacer {
  let nextArrival = spec.shard;
  let taken = 0;
  return {
    next(_slot, now) {
      if (now >= endAt) return undefined;
      const intendedAt = startAt + arrivalMs(spec.profile, nextArrival);
      if (intendedAt >= endAt) return undefined;
      nextArrival += spec.shards;
      taken += 1;
      return { at: Math.max(intendedAt, now), intendedAt };
    },
    finished: () => {},
    dropped() {
      let due = 0;
      for (let k = spec.shard; startAt + arrivalMs(spec.profile, k) < endAt; k += spec.shards) due++;
      return Math.max(0, due - taken);
    },
  };
}
