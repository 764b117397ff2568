import { join } from 'node:path';
import { RPI } from '../../lib/catalog.ts';
import { numberedEntries, readInteger } from '../sysfs.ts';
import { readEach, type Collector } from './collector.ts';

// arm_exporter's CPU frequency: scaling_cur_freq (kHz) of each cpuN, in hertz as the name
// says — or, with `khz`, the raw kHz value that the rpi_exporter code in arm_exporter's image
// exports under the same name, for dashboards built on it. Unlike arm_exporter, `cpu` is the
// N of cpuN rather than a position in a sorted glob (the two differ from cpu10 on). A CPU
// whose frequency cannot be read is left out.
export function freqCollector(sysfsRoot: string, opts: { khz: boolean } = { khz: false }): Collector {
  const scale = opts.khz ? 1 : 1000;
  const dir = join(sysfsRoot, 'sys/devices/system/cpu');
  return {
    name: 'freq',
    gauges: [{ name: RPI.cpuFrequency, help: 'CPU Frequency in hertz (Hz).', labelNames: ['cpu'] }],
    read: () =>
      readEach(
        () => numberedEntries(dir, 'cpu'),
        (c) => {
          const khz = readInteger(`${dir}/${c.name}/cpufreq/scaling_cur_freq`);
          return [{ metric: RPI.cpuFrequency, labels: { cpu: String(c.index) }, value: khz * scale }];
        },
      ),
  };
}
