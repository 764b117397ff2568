import { RPI } from '../../lib/catalog.ts';
import { decodeThrottled, parseThrottled } from '../throttled.ts';
import type { Vcgencmd } from '../vcgencmd.ts';
import { readSources, type Collector, type Sample } from './collector.ts';

// What only the firmware knows: GPU temperature, core voltage and throttling. Each of the
// three commands is a source of its own, so one failing does not hide the others.

/** `temp=55.3'C` → 55.3 */
export function parseMeasureTemp(output: string): number {
  const m = /^temp=(-?\d+(?:\.\d+)?)'C$/.exec(output.trim());
  if (!m) throw new Error(`measure_temp: unexpected output ${JSON.stringify(output.slice(0, 60))}`);
  return Number(m[1]);
}

/** `volt=1.2000V` → 1.2 */
export function parseMeasureVolts(output: string): number {
  const m = /^volt=(\d+(?:\.\d+)?)V$/.exec(output.trim());
  if (!m) throw new Error(`measure_volts: unexpected output ${JSON.stringify(output.slice(0, 60))}`);
  return Number(m[1]);
}

export function vcgencmdCollector(vcgencmd: Vcgencmd): Collector {
  return {
    name: 'vcgencmd',
    gauges: [
      { name: RPI.gpuTemperature, help: 'GPU temperature in degrees celsius (°C).', labelNames: [] },
      { name: RPI.coreVoltage, help: 'Core voltage in volts (vcgencmd measure_volts core).', labelNames: [] },
      {
        name: RPI.throttled,
        help: 'Firmware throttling flags from vcgencmd get_throttled: 1 when the reason holds now or has held since boot.',
        labelNames: ['reason', 'period'],
      },
    ],
    read: () =>
      readSources([
        async (): Promise<Sample[]> => [
          { metric: RPI.gpuTemperature, labels: {}, value: parseMeasureTemp(await vcgencmd(['measure_temp'])) },
        ],
        async (): Promise<Sample[]> => [
          { metric: RPI.coreVoltage, labels: {}, value: parseMeasureVolts(await vcgencmd(['measure_volts', 'core'])) },
        ],
        async (): Promise<Sample[]> =>
          decodeThrottled(parseThrottled(await vcgencmd(['get_throttled']))).map((f) => ({
            metric: RPI.throttled,
            labels: { reason: f.reason, period: f.period },
            value: f.value,
          })),
      ]),
  };
}
