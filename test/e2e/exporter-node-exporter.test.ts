import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NODE, RPI } from '../../lib/catalog.ts';
import { LOOPBACK } from '../../lib/defaults.ts';
import { startExporter } from '../../exporters/server.ts';
import { parseExposition, seriesOf, valueOf } from '../fixtures/exposition.ts';
import { startNodeExporter } from '../../exporters/test/fixtures/node-exporter.ts';
import { makeSysfs, setCpuTemperature, zoneFile, type Board } from '../../exporters/test/fixtures/sysfs.ts';

// The real node-exporter (Debian prometheus-node-exporter, thermal_zone collector only,
// --path.sysfs at the fixture) is the oracle: our zone temperatures must equal its
// node_thermal_zone_temp series, zone and type labels included.

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function both(board: Board) {
  const dir = mkdtempSync(join(tmpdir(), `rpi-oracle-${board}-`));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  makeSysfs(dir, board);
  const ours = await startExporter({ host: LOOPBACK, port: 0, sysfsRoot: dir, vcgencmdCacheMs: 0, collectors: ['cpu', 'thermal'] });
  stops.push(() => ours.stop());
  const node = await startNodeExporter(dir);
  stops.push(() => node.stop());
  const scrape = async (url: string) => parseExposition(await (await fetch(`${url}/metrics`)).text());
  return {
    dir,
    async compare() {
      const [a, b] = await Promise.all([scrape(ours.url), scrape(node.url)]);
      return {
        ours: seriesOf(a, RPI.thermalZoneTemperature),
        oracle: seriesOf(b, NODE.thermalZoneTemp),
        cpu: valueOf(a, RPI.cpuTemperature),
        ourErrors: valueOf(a, RPI.collectorErrors, { collector: 'thermal' }),
        oracleSuccess: valueOf(b, 'node_scrape_collector_success', { collector: 'thermal_zone' }),
      };
    },
  };
}

describe('zone temperatures agree with node-exporter on the same sysfs tree', () => {
  it.each<Board>(['pi3b', 'pi4', 'multizone'])('%s', async (board) => {
    const pair = await both(board);
    const { ours, oracle, cpu } = await pair.compare();
    expect(oracle.length).toBeGreaterThan(0);
    expect(ours).toEqual(oracle);
    expect(cpu).toBe(oracle.find((s) => s.labels.zone === '0')!.value);
  });

  it('as the board heats up past the throttling point and cools below zero', async () => {
    const pair = await both('multizone');
    for (const celsius of [85.123, 60, -3.25]) {
      setCpuTemperature(pair.dir, celsius);
      const { ours, oracle, cpu } = await pair.compare();
      expect(ours).toEqual(oracle);
      expect(cpu).toBe(celsius);
    }
  });
});

// node-exporter 1.5 fails its whole thermal_zone collector when one zone cannot be read:
// no node_thermal_zone_temp at all, node_scrape_collector_success 0. Ours leaves out only
// that zone and counts the error, so the other zones (and zone 0, the CPU) stay watched.
describe('a zone that cannot be read', () => {
  it.each([
    ['lacks its type file', (dir: string) => rmSync(zoneFile(dir, 1, 'type'))],
    ['has an empty temp file', (dir: string) => writeFileSync(zoneFile(dir, 1, 'temp'), '')],
  ])('%s: ours reports the other zones, real node-exporter reports none', async (_, breakZone) => {
    const pair = await both('multizone');
    breakZone(pair.dir);
    const r = await pair.compare();
    expect(r.ours).toEqual([{ labels: { zone: '0', type: 'cpu-thermal' }, value: 45 }]);
    expect(r.cpu).toBe(45);
    expect(r.ourErrors).toBe(1);
    expect(r.oracle).toEqual([]);
    expect(r.oracleSuccess).toBe(0);
  });
});
