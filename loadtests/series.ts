import { levelAt, type Profile } from './schedule.ts';
import { addInterval, emptyInterval, type Interval } from './accounting.ts';

// The per-second series of a run, merged over shards: each shard reports its
// seconds as they complete; a second is emitted once every shard reported it,
// with the level the profile asked for then and the latest backlog reading.

/** One second of a run (t = seconds since the start), merged over shards, with the backlog seen then. */
export interface IntervalSample extends Interval {
  /** Active voters (closed model) or scheduled requests/s (open model) in that second. */
  level: number;
  backlog?: number;
}

export class SeriesMerger {
  readonly samples: IntervalSample[] = [];
  private readonly pending = new Map<number, { shards: number; merged: Interval }>();

  constructor(
    private readonly shards: number,
    private readonly profile: Profile,
    private readonly wholeLevels: boolean,
    private readonly onSample?: (s: IntervalSample) => void,
  ) {}

  private sample(i: Interval, backlog: number | undefined): IntervalSample {
    const level = levelAt(this.profile, i.t * 1000);
    return { ...i, level: this.wholeLevels ? Math.floor(level) : level, ...(backlog !== undefined ? { backlog } : {}) };
  }

  /** Add one shard's second; emits the merged second once all shards reported it. */
  add(i: Interval, backlog?: number): void {
    const slot = this.pending.get(i.t) ?? this.pending.set(i.t, { shards: 0, merged: emptyInterval(i.t) }).get(i.t)!;
    slot.shards += 1;
    addInterval(slot.merged, i);
    if (slot.shards < this.shards) return;
    this.pending.delete(i.t);
    const s = this.sample(slot.merged, backlog);
    this.samples.push(s);
    this.onSample?.(s);
  }

  /** Seconds some shard reported but not all (an aborted worker): keep what arrived, in order. */
  flush(): IntervalSample[] {
    for (const [, slot] of [...this.pending].sort((a, b) => a[0] - b[0])) this.samples.push(this.sample(slot.merged, undefined));
    this.pending.clear();
    return this.samples;
  }
}
