// `vcgencmd get_throttled` → rpi_throttled{reason,period}. The firmware's bit layout:
// bits 0–3 are the state now, bits 16–19 the same conditions since boot.

import { THROTTLE_PERIODS, THROTTLE_REASONS, type ThrottlePeriod, type ThrottleReason } from '../lib/catalog.ts';

const PERIOD_SHIFT: Record<ThrottlePeriod, number> = { now: 0, since_boot: 16 };

/** `throttled=0x50005` → 0x50005. */
export function parseThrottled(output: string): number {
  const m = /^throttled=0x([0-9a-f]+)$/i.exec(output.trim());
  if (!m) throw new Error(`get_throttled: unexpected output ${JSON.stringify(output.slice(0, 60))}`);
  return parseInt(m[1]!, 16);
}

/** All eight reason × period flags of a bit pattern, each 0 or 1. */
export function decodeThrottled(bits: number): { reason: ThrottleReason; period: ThrottlePeriod; value: 0 | 1 }[] {
  return THROTTLE_PERIODS.flatMap((period) =>
    THROTTLE_REASONS.map((reason, bit) => ({
      reason,
      period,
      value: ((bits >>> (bit + PERIOD_SHIFT[period])) & 1) as 0 | 1,
    })),
  );
}
