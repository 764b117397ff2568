import { describe, expect, it } from 'vitest';
import { THROTTLE_PERIODS, THROTTLE_REASONS } from '../../lib/catalog.ts';
import { decodeThrottled, parseThrottled } from '../throttled.ts';

// The firmware's layout (brief §2): bit 0 under-voltage, 1 ARM frequency capped, 2 throttled,
// 3 soft temperature limit, each now; bits 16–19 the same since boot.
const BIT: Record<string, number> = {
  'under_voltage/now': 0,
  'arm_frequency_capped/now': 1,
  'throttled/now': 2,
  'soft_temp_limit/now': 3,
  'under_voltage/since_boot': 16,
  'arm_frequency_capped/since_boot': 17,
  'throttled/since_boot': 18,
  'soft_temp_limit/since_boot': 19,
};

describe('get_throttled decoding', () => {
  it('parses the firmware output', () => {
    expect(parseThrottled('throttled=0x50005\n')).toBe(0x50005);
    expect(parseThrottled('throttled=0x0')).toBe(0);
    expect(parseThrottled('throttled=0xE0000')).toBe(0xe0000);
  });

  it.each(['', 'throttled=', 'throttled=50005', 'throttled=0xZZ', 'error=1 error_msg="Command not registered"', 'temp=55.3\'C'])(
    'rejects %j',
    (output) => expect(() => parseThrottled(output)).toThrow(/get_throttled: unexpected output/),
  );

  it('reads 0x50005 as under-voltage and throttling, now and since boot', () => {
    const on = decodeThrottled(0x50005).filter((f) => f.value === 1).map((f) => `${f.reason}/${f.period}`);
    expect(on.sort()).toEqual(['throttled/now', 'throttled/since_boot', 'under_voltage/now', 'under_voltage/since_boot']);
  });

  it('always reports all eight reason × period flags, in a fixed order', () => {
    expect(decodeThrottled(0).map((f) => `${f.reason}/${f.period}`)).toEqual(
      THROTTLE_PERIODS.flatMap((p) => THROTTLE_REASONS.map((r) => `${r}/${p}`)),
    );
    expect(decodeThrottled(0).every((f) => f.value === 0)).toBe(true);
  });

  it('decodes every one of the 256 patterns of the eight defined bits exactly', () => {
    for (let pattern = 0; pattern < 256; pattern++) {
      let bits = 0;
      Object.values(BIT).forEach((bit, i) => {
        if (pattern & (1 << i)) bits += 2 ** bit;
      });
      for (const f of decodeThrottled(bits)) {
        expect(f.value, `0x${bits.toString(16)} ${f.reason}/${f.period}`).toBe(Math.floor(bits / 2 ** BIT[`${f.reason}/${f.period}`]!) % 2);
      }
    }
  });

  it('ignores bits the firmware does not define', () => {
    expect(decodeThrottled(0xfff0fff0).every((f) => f.value === 0)).toBe(true);
  });
});
