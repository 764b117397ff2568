import { join } from 'node:path';
import { RPI } from '../../lib/catalog.ts';
import { numberedEntries, readInteger, readWord } from '../sysfs.ts';
import { readEach, type Collector } from './collector.ts';

// Every thermal zone, labelled like node-exporter's node_thermal_zone_temp: zone is the
// number in thermal_zoneN, type the zone's `type` file. A zone that cannot be read is
// left out; the others are still reported.
export function thermalCollector(sysfsRoot: string): Collector {
  const dir = join(sysfsRoot, 'sys/class/thermal');
  return {
    name: 'thermal',
    gauges: [
      {
        name: RPI.thermalZoneTemperature,
        help: 'Temperature of each thermal zone in degrees celsius (°C).',
        labelNames: ['zone', 'type'],
      },
    ],
    read: () =>
      readEach(
        () => numberedEntries(dir, 'thermal_zone'),
        (z) => {
          // Plain concatenation: path.join's normalisation was 6% of a scrape's CPU.
          const type = readWord(`${dir}/${z.name}/type`);
          const milli = readInteger(`${dir}/${z.name}/temp`);
          return [{ metric: RPI.thermalZoneTemperature, labels: { zone: String(z.index), type }, value: milli / 1000 }];
        },
      ),
  };
}
