import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RPI } from '../../lib/catalog.ts';
import { VERSION } from '../version.ts';
import { seriesOf, valueOf } from '../../test/fixtures/exposition.ts';
import { startBoard, type TestBoard } from './fixtures/exporter.ts';
import { BOARDS, freqFile, setCpuTemperature, type Board } from './fixtures/sysfs.ts';

// Every metric, label, value and type on healthy fixtures.

let board: TestBoard | undefined;
afterEach(async () => {
  await board?.stop();
  board = undefined;
});

const collectorsLabels = ['cpu', 'thermal', 'freq', 'vcgencmd'].map((collector) => ({ collector }));

describe('metrics on a healthy Pi 4', () => {
  it('exposes exactly these series, with these values', async () => {
    board = await startBoard('pi4', { vcgencmd: { temp: '53.5', volts: '0.8500', throttled: '0x0' } });
    const { status, contentType, exp } = await board.scrape();
    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const values = exp.series
      .filter((s) => s.name !== RPI.collectorDuration)
      .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
      .sort();
    expect(values).toEqual(
      [
        'rpi_cpu_temperature_celsius{} 52.095',
        'rpi_thermal_zone_temperature_celsius{"zone":"0","type":"cpu-thermal"} 52.095',
        'rpi_cpu_frequency_hertz{"cpu":"0"} 1500000000',
        'rpi_cpu_frequency_hertz{"cpu":"1"} 1500000000',
        'rpi_cpu_frequency_hertz{"cpu":"2"} 1500000000',
        'rpi_cpu_frequency_hertz{"cpu":"3"} 1500000000',
        'rpi_gpu_temperature_celsius{} 53.5',
        'rpi_core_voltage_volts{} 0.85',
        ...['under_voltage', 'arm_frequency_capped', 'throttled', 'soft_temp_limit'].flatMap((reason) =>
          ['now', 'since_boot'].map((period) => `rpi_throttled{"reason":"${reason}","period":"${period}"} 0`),
        ),
        'rpi_exporter_collector_errors_total{"collector":"cpu"} 0',
        'rpi_exporter_collector_errors_total{"collector":"thermal"} 0',
        'rpi_exporter_collector_errors_total{"collector":"freq"} 0',
        'rpi_exporter_collector_errors_total{"collector":"vcgencmd"} 0',
        `rpi_exporter_build_info{"version":"${VERSION}"} 1`,
      ].sort(),
    );
    const durations = seriesOf(exp, RPI.collectorDuration);
    expect(durations.map((d) => d.labels)).toEqual(expect.arrayContaining(collectorsLabels));
    expect(durations).toHaveLength(4);
    for (const d of durations) expect(d.value).toBeGreaterThan(0);
  });

  it('declares every metric with its type, and keeps arm_exporter\'s help texts', async () => {
    board = await startBoard('pi4');
    const { exp } = await board.scrape();
    expect(Object.fromEntries(exp.type)).toEqual({
      [RPI.cpuTemperature]: 'gauge',
      [RPI.thermalZoneTemperature]: 'gauge',
      [RPI.cpuFrequency]: 'gauge',
      [RPI.gpuTemperature]: 'gauge',
      [RPI.coreVoltage]: 'gauge',
      [RPI.throttled]: 'gauge',
      [RPI.collectorErrors]: 'counter',
      [RPI.collectorDuration]: 'gauge',
      [RPI.buildInfo]: 'gauge',
    });
    expect(exp.help.get(RPI.cpuTemperature)).toBe('CPU temperature in degrees celsius (°C).');
    expect(exp.help.get(RPI.cpuFrequency)).toBe('CPU Frequency in hertz (Hz).');
    expect(exp.help.get(RPI.gpuTemperature)).toBe('GPU temperature in degrees celsius (°C).');
    // No Node process metrics: the exporter has its own registry.
    expect(exp.series.filter((s) => !s.name.startsWith('rpi_'))).toEqual([]);
  });
});

describe.each<Board>(['pi3b', 'pi4', 'multizone'])('the %s fixture', (name) => {
  it('reports each thermal zone and each CPU as the tree holds them', async () => {
    board = await startBoard(name);
    const { exp } = await board.scrape();
    const spec = BOARDS[name];
    expect(valueOf(exp, RPI.cpuTemperature)).toBe(spec.zones[0]!.milliCelsius / 1000);
    expect(seriesOf(exp, RPI.thermalZoneTemperature)).toEqual(
      spec.zones.map((z, i) => ({ labels: { zone: String(i), type: z.type }, value: z.milliCelsius / 1000 })),
    );
    expect(seriesOf(exp, RPI.cpuFrequency)).toEqual(
      spec.policies
        .flatMap((p) => p.cpus.map((cpu) => ({ labels: { cpu: String(cpu) }, value: p.curKHz * 1000 })))
        .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels))),
    );
  });

  it("with --compat-frequency-khz, reports each CPU's scaling_cur_freq as it is (kHz), like arm_exporter's image", async () => {
    board = await startBoard(name, { exporter: { compatFrequencyKhz: true } });
    const { exp } = await board.scrape();
    const raw = (cpu: string) => Number(readFileSync(freqFile(board!.dir, Number(cpu)), 'utf8'));
    const series = seriesOf(exp, RPI.cpuFrequency);
    expect(series).toHaveLength(BOARDS[name].policies.flatMap((p) => p.cpus).length);
    for (const s of series) expect(s.value, `cpu ${s.labels.cpu}`).toBe(raw(s.labels.cpu!));
    // Everything else as without the switch.
    expect(valueOf(exp, RPI.cpuTemperature)).toBe(BOARDS[name].zones[0]!.milliCelsius / 1000);
  });
});

describe('values are read at scrape time', () => {
  it('follows a board heating up and cooling down', async () => {
    board = await startBoard('pi3b');
    expect(valueOf((await board.scrape()).exp, RPI.cpuTemperature)).toBe(48.312);
    setCpuTemperature(board.dir, 81.5);
    const hot = (await board.scrape()).exp;
    expect(valueOf(hot, RPI.cpuTemperature)).toBe(81.5);
    expect(valueOf(hot, RPI.thermalZoneTemperature, { zone: '0', type: 'bcm2835_thermal' })).toBe(81.5);
    setCpuTemperature(board.dir, -3.25);
    expect(valueOf((await board.scrape()).exp, RPI.cpuTemperature)).toBe(-3.25);
  });

  it('follows the firmware: GPU temperature and voltage change between scrapes', async () => {
    board = await startBoard('pi4');
    board.vcgencmd.set({ temp: '70.1', volts: '1.3500' });
    let exp = (await board.scrape()).exp;
    expect(valueOf(exp, RPI.gpuTemperature)).toBe(70.1);
    expect(valueOf(exp, RPI.coreVoltage)).toBe(1.35);
    board.vcgencmd.set({ temp: '45.0' });
    exp = (await board.scrape()).exp;
    expect(valueOf(exp, RPI.gpuTemperature)).toBe(45);
  });
});

describe('rpi_throttled for each bit of get_throttled', () => {
  const bits: [string, string, string][] = [
    ['0x1', 'under_voltage', 'now'],
    ['0x2', 'arm_frequency_capped', 'now'],
    ['0x4', 'throttled', 'now'],
    ['0x8', 'soft_temp_limit', 'now'],
    ['0x10000', 'under_voltage', 'since_boot'],
    ['0x20000', 'arm_frequency_capped', 'since_boot'],
    ['0x40000', 'throttled', 'since_boot'],
    ['0x80000', 'soft_temp_limit', 'since_boot'],
  ];

  it('sets exactly the flag of each single bit, and none for 0x0', async () => {
    board = await startBoard('pi4');
    for (const [pattern, reason, period] of bits) {
      board.vcgencmd.set({ throttled: pattern });
      const flags = seriesOf((await board.scrape()).exp, RPI.throttled);
      expect(flags, pattern).toHaveLength(8);
      expect(flags.filter((f) => f.value === 1).map((f) => f.labels), pattern).toEqual([{ reason, period }]);
      expect(flags.every((f) => f.value === 0 || f.value === 1)).toBe(true);
    }
    board.vcgencmd.set({ throttled: '0x0' });
    expect(seriesOf((await board.scrape()).exp, RPI.throttled).every((f) => f.value === 0)).toBe(true);
  });

  it.each([
    ['0x50005', ['throttled/now', 'throttled/since_boot', 'under_voltage/now', 'under_voltage/since_boot']],
    ['0x50000', ['throttled/since_boot', 'under_voltage/since_boot']],
    ['0xE0000', ['arm_frequency_capped/since_boot', 'soft_temp_limit/since_boot', 'throttled/since_boot']],
    ['0xF000F', bits.map(([, r, p]) => `${r}/${p}`).sort()],
  ])('decodes the common pattern %s', async (pattern, expected) => {
    board = await startBoard('pi4', { vcgencmd: { throttled: pattern } });
    const on = seriesOf((await board.scrape()).exp, RPI.throttled)
      .filter((f) => f.value === 1)
      .map((f) => `${f.labels.reason}/${f.labels.period}`)
      .sort();
    expect(on).toEqual(expected);
  });
});

describe('choosing collectors', () => {
  it('runs only the named ones, with self-metrics for those only', async () => {
    board = await startBoard('pi4', { exporter: { collectors: ['cpu', 'freq'] } });
    const { exp } = await board.scrape();
    expect([...new Set(exp.series.map((s) => s.name))].sort()).toEqual(
      [RPI.cpuTemperature, RPI.cpuFrequency, RPI.collectorErrors, RPI.collectorDuration, RPI.buildInfo].sort(),
    );
    expect(seriesOf(exp, RPI.collectorErrors).map((s) => s.labels)).toEqual([{ collector: 'cpu' }, { collector: 'freq' }]);
    expect(board.vcgencmd.calls()).toEqual([]);
  });
});
