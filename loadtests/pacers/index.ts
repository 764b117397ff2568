import { assertNever } from '../../lib/assert.ts';
import type { ShardSpec } from '../shard.ts';
import { closedPacer } from './closed.ts';
import { openPacer } from './open.ts';

// A pacer decides when each connection of a shard sends, for one load model;
// the shard asks it whenever a connection is free and tells it when answers come.
// Stages are not a model of their own: both pacers follow the plan's profile
// (schedule.ts), constant or ramping, so ramps and fixed-rate steps work for both.

/** When a connection sends next. */
export type Next =
  /** Send at `at` (now or later); latency is measured from `intendedAt`. */
  | { at: number; intendedAt: number }
  /** Ask again at `at` (a voter thinking, waiting to retry, or not yet active in a ramp). */
  | { at: number; recheck: true }
  /** This connection's part of the run is over. */
  | undefined;

export interface Pacer {
  /** Connection `slot` (0-based within the shard) is free at `now`. */
  next(slot: number, now: number): Next;
  /** The request of `slot` finished at `at`; `connectionFailed` when the connection was refused or reset. */
  finished(slot: number, at: number, connectionFailed: boolean): void;
  /** Arrivals due before the end that no free connection could send (open model; 0 for closed). */
  dropped(): number;
}

export interface PacerTiming {
  startAt: number;
  endAt: number;
}

export function pacerFor(spec: ShardSpec, timing: PacerTiming): Pacer {
  switch (spec.model) {
    case 'closed':
      return closedPacer(spec, timing);
    case 'open':
      return openPacer(spec, timing);
    default:
      return assertNever(spec.model, 'load model');
  }
}
