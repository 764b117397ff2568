import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RPI } from '../../lib/catalog.ts';
import { LOOPBACK } from '../../lib/defaults.ts';
import { freePort, waitForHttp } from '../../lib/net.ts';
import { runCli, startCli } from '../../test/fixtures/cli.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { makeSysfs } from './fixtures/sysfs.ts';

// `myhero-ops exporter` as a user runs it.

const dir = mkdtempSync(join(tmpdir(), 'rpi-cli-'));
makeSysfs(dir, 'pi3b');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('myhero-ops exporter', () => {
  it('serves the fixture and stops cleanly on SIGTERM with exit code 0', async () => {
    const port = await freePort();
    const url = `http://${LOOPBACK}:${port}`;
    const proc = startCli(['exporter', '--listen', `${LOOPBACK}:${port}`, '--sysfs-root', dir, '--collectors', 'cpu,thermal'], { env: { LOG_LEVEL: 'info' } });
    try {
      await waitForHttp(`${url}/healthz`, 30_000);
      const exp = parseExposition(await (await fetch(`${url}/metrics`)).text());
      expect(valueOf(exp, RPI.cpuTemperature)).toBe(48.312);
      expect(valueOf(exp, RPI.thermalZoneTemperature, { zone: '0', type: 'bcm2835_thermal' })).toBe(48.312);
      expect(valueOf(exp, RPI.cpuFrequency, { cpu: '0' })).toBeUndefined();
    } finally {
      proc.child.kill('SIGTERM');
    }
    const r = await proc.result;
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('exporter stopped');
  }, 60_000);

  it.each([
    [['--listen', 'nowhere'], 'myhero-ops: invalid --listen "nowhere": expected host:port such as 0.0.0.0:9243'],
    [['--vcgencmd', '/nonexistent'], 'myhero-ops: --vcgencmd /nonexistent is not an executable file'],
  ])('turns %j into one line and exit code 2', async (args, message) => {
    const r = await runCli(['exporter', '--sysfs-root', dir, ...args]);
    expect(r.stderr.trim()).toBe(message);
    expect(r.code).toBe(2);
  });

  it('documents its flags and defaults in --help', async () => {
    const r = await runCli(['exporter', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const text of ['--listen <host:port>', '(default: 0.0.0.0:9243)', '--sysfs-root <dir>', '(default: /)', '--vcgencmd <path>', '/usr/bin/vcgencmd, /opt/vc/bin/vcgencmd', '(default: 5s)', '(default: cpu,thermal,freq,vcgencmd)']) {
      expect(help).toContain(text);
    }
  });
});
