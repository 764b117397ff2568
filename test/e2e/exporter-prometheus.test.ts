import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RPI } from '../../lib/catalog.ts';
import { LOOPBACK } from '../../lib/defaults.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { startExporter } from '../../exporters/server.ts';
import { installFakeVcgencmd } from '../../exporters/test/fixtures/fake-vcgencmd.ts';
import { makeSysfs, setCpuTemperature } from '../../exporters/test/fixtures/sysfs.ts';

// A real Prometheus (Debian package) scrapes the exporter with the shipped static scrape
// config (exporters/deploy/prometheus-static.yml), targets pointed at the test's exporter.

const dir = mkdtempSync(join(tmpdir(), 'rpi-prom-'));
let prom: RunningPrometheus;
let stopExporter: () => Promise<void>;

beforeAll(async () => {
  makeSysfs(dir, 'pi4');
  const vcgencmd = installFakeVcgencmd(dir, { throttled: '0x50005', temp: '57.9' });
  const exporter = await startExporter({ host: LOOPBACK, port: 0, sysfsRoot: dir, vcgencmd: vcgencmd.path, vcgencmdCacheMs: 0, collectors: ['cpu', 'thermal', 'freq', 'vcgencmd'] });
  stopExporter = exporter.stop;
  const config = parse(readFileSync(new URL('../../exporters/deploy/prometheus-static.yml', import.meta.url), 'utf8')) as {
    scrape_configs: { scrape_interval: string; scrape_timeout: string; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs[0]!;
  job.scrape_interval = '1s';
  job.scrape_timeout = '1s';
  job.static_configs = [{ targets: [new URL(exporter.url).host] }];
  prom = await startPrometheus({ config: stringify({ global: { scrape_interval: '1s' }, ...config }) });
}, 60_000);

afterAll(async () => {
  await prom?.stop();
  await stopExporter?.();
  rmSync(dir, { recursive: true, force: true });
});

describe('a real Prometheus scraping the exporter', () => {
  it('returns rpi_cpu_temperature_celsius for the instance, as job arm-exporter', async () => {
    const samples = await prom.waitFor(`${RPI.cpuTemperature}{job="arm-exporter",instance="${LOOPBACK}"}`, (s) => s.length === 1, 30_000);
    expect(samples[0]!.value).toBe(52.095);
    expect(await prom.query(`up{job="arm-exporter"}`)).toEqual([{ metric: { __name__: 'up', job: 'arm-exporter', instance: LOOPBACK }, value: 1 }]);
  });

  it('sees the board heat up', async () => {
    setCpuTemperature(dir, 82.5);
    const samples = await prom.waitFor(RPI.cpuTemperature, (s) => s[0]?.value === 82.5, 30_000);
    expect(samples[0]!.metric).toMatchObject({ job: 'arm-exporter', instance: LOOPBACK });
  });

  it('stores every other series with its labels', async () => {
    const throttledNow = await prom.waitFor(`${RPI.throttled}{period="now"} == 1`, (s) => s.length === 2, 30_000);
    expect(throttledNow.map((s) => s.metric.reason).sort()).toEqual(['throttled', 'under_voltage']);
    expect(await prom.query(`count(${RPI.cpuFrequency})`)).toEqual([{ metric: {}, value: 4 }]);
    expect((await prom.query(RPI.gpuTemperature))[0]!.value).toBe(57.9);
    expect(await prom.query(`sum(${RPI.collectorErrors})`)).toEqual([{ metric: {}, value: 0 }]);
  });
});
