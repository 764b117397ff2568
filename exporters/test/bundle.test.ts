import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RPI } from '../../lib/catalog.ts';
import { LOOPBACK } from '../../lib/defaults.ts';
import { freePort, waitForHttp } from '../../lib/net.ts';
import { startService } from '../../lib/proc.ts';
import { BUNDLE_NODE_FLAGS, buildExporter } from '../build.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { installFakeVcgencmd } from './fixtures/fake-vcgencmd.ts';
import { makeSysfs } from './fixtures/sysfs.ts';

// The single-file bundle (what the image runs) builds, carries only the exporter, and
// serves the same metrics as a process of its own.

const dir = mkdtempSync(join(tmpdir(), 'rpi-bundle-'));
let bundle: string;
let inputs: string[];
let bytes: number;
beforeAll(async () => {
  const { file, metafile } = await buildExporter(join(dir, 'dist'));
  bundle = file;
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  inputs = Object.keys(output!.inputs);
  bytes = output!.bytes;
  makeSysfs(dir, 'pi4');
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => spawnSync(process.execPath, [...BUNDLE_NODE_FLAGS, bundle, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('the exporter bundle', () => {
  it('holds the exporter and prom-client\'s registry, not the CLI, YAML, pino or prom-client\'s extras', () => {
    const packages = new Set(inputs.map((i) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(i)?.[1]).filter(Boolean));
    expect([...packages]).toEqual(['prom-client']);
    expect(inputs.some((i) => i.endsWith('prom-client/index.js'))).toBe(false);
    expect(inputs.filter((i) => !i.includes('node_modules') && !i.startsWith('exporters/') && !i.startsWith('prom-client-core:'))).toEqual(
      expect.arrayContaining(['lib/catalog.ts', 'lib/errors.ts']),
    );
    expect(inputs.some((i) => i.startsWith('lib/cli.ts') || i.startsWith('lib/log.ts') || i.startsWith('lab/'))).toBe(false);
    expect(bytes).toBeLessThan(150 * 1024);
  });

  it('serves the metrics as its own process, and stops cleanly on SIGTERM', async () => {
    const vcgencmd = installFakeVcgencmd(dir, { throttled: '0x50005' });
    const port = await freePort();
    const url = `http://${LOOPBACK}:${port}`;
    const proc = startService(process.execPath, [
      ...BUNDLE_NODE_FLAGS,
      bundle,
      `--listen=${LOOPBACK}:${port}`,
      `--sysfs-root=${dir}`,
      `--vcgencmd=${vcgencmd.path}`,
    ]);
    try {
      await waitForHttp(`${url}/healthz`, 20_000);
      const exp = parseExposition(await (await fetch(`${url}/metrics`)).text());
      expect(valueOf(exp, RPI.cpuTemperature)).toBe(52.095);
      expect(valueOf(exp, RPI.cpuFrequency, { cpu: '3' })).toBe(1_500_000_000);
      expect(valueOf(exp, RPI.gpuTemperature)).toBe(55.3);
      expect(valueOf(exp, RPI.throttled, { reason: 'under_voltage', period: 'since_boot' })).toBe(1);
      expect(valueOf(exp, RPI.collectorErrors, { collector: 'vcgencmd' })).toBe(0);
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
    const lines = proc.output().split('\n').map((l) => JSON.parse(l) as { msg: string; level: number; name: string });
    expect(lines.map((l) => l.msg)).toEqual(['exporter listening', 'stopping']);
    expect(lines.every((l) => l.name === 'rpi-exporter' && l.level === 30)).toBe(true);
  });

  it('prints its flags for --help', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--listen', '--sysfs-root', '--vcgencmd ', '--vcgencmd-cache', '--vcgencmd-timeout', '--collectors', '--compat-frequency-khz']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('(default: 0.0.0.0:9243)');
    // A switch, taking no value.
    expect(run(['--compat-frequency-khz', '--help']).status).toBe(0);
  });

  it.each([
    [['--bogus'], "rpi-exporter: Unknown option '--bogus'"],
    [['--listen=nowhere'], 'rpi-exporter: invalid --listen "nowhere": expected host:port such as 0.0.0.0:9243'],
    [['--collectors=cpu,fan'], 'rpi-exporter: invalid --collectors "fan": expected one of cpu|thermal|freq|vcgencmd'],
    [['--sysfs-root=/nonexistent'], 'rpi-exporter: --sysfs-root /nonexistent is not a directory'],
    [['--compat-frequency-khz=yes'], "rpi-exporter: Option '--compat-frequency-khz' does not take an argument"],
  ])('turns bad flags %j into one line and exit code 2', (args, message) => {
    const r = run(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
  });
});
