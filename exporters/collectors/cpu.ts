import { join } from 'node:path';
import { RPI } from '../../lib/catalog.ts';
import { readInteger } from '../sysfs.ts';
import { readSources, type Collector } from './collector.ts';

// arm_exporter's CPU temperature: thermal_zone0 is the SoC sensor on every Pi.
// Help text as arm_exporter has it, so the two are indistinguishable to dashboards.
export function cpuCollector(sysfsRoot: string): Collector {
  const file = join(sysfsRoot, 'sys/class/thermal/thermal_zone0/temp');
  return {
    name: 'cpu',
    gauges: [{ name: RPI.cpuTemperature, help: 'CPU temperature in degrees celsius (°C).', labelNames: [] }],
    read: () =>
      readSources([() => [{ metric: RPI.cpuTemperature, labels: {}, value: readInteger(file) / 1000 }]]),
  };
}
