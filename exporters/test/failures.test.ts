import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RPI } from '../../lib/catalog.ts';
import { LOOPBACK } from '../../lib/defaults.ts';
import { UserError } from '../../lib/errors.ts';
import { startExporter } from '../server.ts';
import { seriesOf, valueOf, type Exposition } from '../../test/fixtures/exposition.ts';
import { startBoard, type TestBoard } from './fixtures/exporter.ts';
import { cpuDir, freqFile, thermalDir, zoneFile } from './fixtures/sysfs.ts';

// A source that is missing, unreadable or garbage leaves its series out of that scrape
// and counts an error for its collector; /metrics still answers 200 with everything else.

let board: TestBoard | undefined;
afterEach(async () => {
  await board?.stop();
  board = undefined;
});

const errors = (exp: Exposition) =>
  Object.fromEntries(seriesOf(exp, RPI.collectorErrors).map((s) => [s.labels.collector, s.value]));
const names = (exp: Exposition) => new Set(exp.series.map((s) => s.name));

describe.each([
  ['missing', (path: string) => unlinkSync(path)],
  ['empty', (path: string) => writeFileSync(path, '')],
  ['garbage', (path: string) => writeFileSync(path, 'hot\n')],
  ['a number with junk', (path: string) => writeFileSync(path, '52095mC\n')],
  ['unreadable (a directory)', (path: string) => (unlinkSync(path), mkdirSync(path))],
])('thermal_zone0/temp %s', (_what, breakFile) => {
  it('leaves out the CPU temperature and zone 0, keeps zone 1, counts one error each for cpu and thermal', async () => {
    board = await startBoard('multizone');
    breakFile(zoneFile(board.dir, 0, 'temp'));
    const { status, exp } = await board.scrape();
    expect(status).toBe(200);
    expect(valueOf(exp, RPI.cpuTemperature)).toBeUndefined();
    expect(seriesOf(exp, RPI.thermalZoneTemperature)).toEqual([{ labels: { zone: '1', type: 'gpu-thermal' }, value: 43.125 }]);
    expect(seriesOf(exp, RPI.cpuFrequency)).toHaveLength(6);
    expect(errors(exp)).toEqual({ cpu: 1, thermal: 1, freq: 0, vcgencmd: 0 });
  });
});

describe('sysfs trouble', () => {
  it('counts an error on every scrape while the source stays broken, and recovers when it is back', async () => {
    board = await startBoard('pi4');
    const temp = zoneFile(board.dir, 0, 'temp');
    writeFileSync(temp, '\n');
    await board.scrape();
    let { exp } = await board.scrape();
    expect(errors(exp).cpu).toBe(2);
    writeFileSync(temp, '49000\n');
    ({ exp } = await board.scrape());
    expect(valueOf(exp, RPI.cpuTemperature)).toBe(49);
    expect(errors(exp).cpu).toBe(2);
  });

  it('leaves out a zone whose type is empty', async () => {
    board = await startBoard('multizone');
    writeFileSync(zoneFile(board.dir, 1, 'type'), '\n');
    const { exp } = await board.scrape();
    expect(seriesOf(exp, RPI.thermalZoneTemperature).map((s) => s.labels.zone)).toEqual(['0']);
    expect(errors(exp)).toMatchObject({ cpu: 0, thermal: 1 });
  });

  it('with no thermal class at all, leaves out both temperature collectors', async () => {
    board = await startBoard('pi4');
    rmSync(thermalDir(board.dir), { recursive: true });
    const { status, exp } = await board.scrape();
    expect(status).toBe(200);
    expect(names(exp).has(RPI.cpuTemperature)).toBe(false);
    expect(names(exp).has(RPI.thermalZoneTemperature)).toBe(false);
    expect(errors(exp)).toEqual({ cpu: 1, thermal: 1, freq: 0, vcgencmd: 0 });
  });

  it('leaves out a CPU without cpufreq, and every CPU of a policy whose frequency is garbage', async () => {
    board = await startBoard('multizone');
    unlinkSync(join(cpuDir(board.dir), 'cpu2', 'cpufreq'));
    writeFileSync(freqFile(board.dir, 4), 'n/a\n'); // policy4 drives cpu4 and cpu5
    const { exp } = await board.scrape();
    expect(seriesOf(exp, RPI.cpuFrequency).map((s) => s.labels.cpu)).toEqual(['0', '1', '3']);
    expect(errors(exp)).toMatchObject({ freq: 1, cpu: 0, thermal: 0 });
  });

  it('on a machine that is not a Pi, answers 200 with only the self-metrics, every collector counting an error', async () => {
    board = await startBoard('empty', { exporter: { vcgencmd: undefined } });
    const { status, exp } = await board.scrape();
    expect(status).toBe(200);
    expect([...names(exp)].sort()).toEqual([RPI.collectorErrors, RPI.collectorDuration, RPI.buildInfo].sort());
    expect(errors(exp)).toEqual({ cpu: 1, thermal: 1, freq: 1, vcgencmd: 1 });
  });
});

describe('vcgencmd trouble', () => {
  const vcgencmdMetrics = [RPI.gpuTemperature, RPI.coreVoltage, RPI.throttled];

  it.each([
    ['absent', { exporter: { vcgencmd: '/nonexistent/vcgencmd' } }],
    ['failing', { vcgencmd: { mode: 'fail' as const } }],
    ['answering garbage', { vcgencmd: { mode: 'garbage' as const } }],
  ])('%s: leaves out GPU temperature, voltage and throttling, keeps sysfs metrics', async (_what, opts) => {
    board = await startBoard('pi4', opts);
    const { status, exp } = await board.scrape();
    expect(status).toBe(200);
    for (const m of vcgencmdMetrics) expect(names(exp).has(m), m).toBe(false);
    expect(valueOf(exp, RPI.cpuTemperature)).toBe(52.095);
    expect(errors(exp)).toEqual({ cpu: 0, thermal: 0, freq: 0, vcgencmd: 1 });
  });

  it('one command failing hides only its own series', async () => {
    board = await startBoard('pi4', { vcgencmd: { modeOf: { get_throttled: 'fail' } } });
    const { exp } = await board.scrape();
    expect(valueOf(exp, RPI.gpuTemperature)).toBe(55.3);
    expect(valueOf(exp, RPI.coreVoltage)).toBe(1.2);
    expect(names(exp).has(RPI.throttled)).toBe(false);
    expect(errors(exp).vcgencmd).toBe(1);
  });

  it('hanging: the scrape answers once the timeout passes, without vcgencmd series, and the hung run is killed', async () => {
    board = await startBoard('pi4', { vcgencmd: { mode: 'hang' }, exporter: { vcgencmdTimeoutMs: 400, vcgencmdCacheMs: 5000 } });
    const started = performance.now();
    const [a, b] = await Promise.all([board.scrape(), board.scrape()]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(5000);
    for (const { status, exp } of [a, b]) {
      expect(status).toBe(200);
      for (const m of vcgencmdMetrics) expect(names(exp).has(m), m).toBe(false);
      expect(valueOf(exp, RPI.cpuTemperature)).toBe(52.095);
    }
    // Two concurrent scrapes shared one read: one run per command, one error.
    expect(board.vcgencmd.calls().map((c) => c.args).sort()).toEqual(['get_throttled', 'measure_temp', 'measure_volts core']);
    expect(errors(b.exp).vcgencmd).toBe(1);
    // The failure is cached too: the next scrape within the cache period does not wait or spawn again.
    const again = performance.now();
    await board.scrape();
    expect(performance.now() - again).toBeLessThan(390);
    expect(board.vcgencmd.calls()).toHaveLength(3);
  });

  it('concurrent scrapes with a warm cache run vcgencmd once per command per cache period', async () => {
    board = await startBoard('pi4', { exporter: { vcgencmdCacheMs: 60_000 } });
    const scrapes = await Promise.all(Array.from({ length: 8 }, () => board!.scrape()));
    for (const { exp } of scrapes) expect(valueOf(exp, RPI.gpuTemperature)).toBe(55.3);
    await board.scrape();
    expect(board.vcgencmd.calls().map((c) => c.args).sort()).toEqual(['get_throttled', 'measure_temp', 'measure_volts core']);
  });
});

describe('bad options', () => {
  it('rejects an unknown collector with a UserError', async () => {
    await expect(
      startExporter({ host: LOOPBACK, port: 0, sysfsRoot: '/', vcgencmdCacheMs: 0, collectors: ['cpu', 'gpu'] }),
    ).rejects.toThrow(new UserError('unknown collector "gpu": choose from cpu,thermal,freq,vcgencmd', 2));
  });

  it('rejects a taken port with a UserError', async () => {
    board = await startBoard('pi4');
    const port = Number(new URL(board.url).port);
    await expect(
      startExporter({ host: LOOPBACK, port, sysfsRoot: board.dir, vcgencmdCacheMs: 0, collectors: ['cpu'] }),
    ).rejects.toThrow(`port ${port} on ${LOOPBACK} is already in use`);
  });
});
