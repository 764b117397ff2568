import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveSettings } from '../../lib/config.ts';
import { exporterSpec, toExporterOptions } from '../settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'rpi-settings-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const resolve = (flags: Record<string, string> = {}, file?: Record<string, unknown>) =>
  toExporterOptions(resolveSettings(exporterSpec, { flags, file, env: {} }));

describe('exporter settings', () => {
  it('defaults to arm_exporter\'s port on all interfaces, the host\'s /sys, all collectors, a 5 s vcgencmd cache', () => {
    expect(resolve()).toEqual({
      host: '0.0.0.0',
      port: 9243,
      sysfsRoot: '/',
      vcgencmd: undefined,
      vcgencmdCacheMs: 5000,
      vcgencmdTimeoutMs: 1000,
      collectors: ['cpu', 'thermal', 'freq', 'vcgencmd'],
      compatFrequencyKhz: false,
    });
  });

  it('takes flags over the config file section', () => {
    const script = join(dir, 'vcgencmd');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o755);
    expect(
      resolve(
        { listen: '127.0.0.1:0', vcgencmdCache: '250ms', collectors: 'cpu,thermal' },
        { listen: '0.0.0.0:1', sysfsRoot: dir, vcgencmd: script, vcgencmdTimeout: '2s', compatFrequencyKhz: true },
      ),
    ).toEqual({
      host: '127.0.0.1',
      port: 0,
      sysfsRoot: dir,
      vcgencmd: script,
      vcgencmdCacheMs: 250,
      vcgencmdTimeoutMs: 2000,
      collectors: ['cpu', 'thermal'],
      compatFrequencyKhz: true,
    });
  });

  it.each([
    [{ listen: 'localhost' }, 'invalid --listen "localhost": expected host:port such as 0.0.0.0:9243'],
    [{ vcgencmdCache: 'soon' }, 'invalid --vcgencmd-cache "soon": expected a duration such as 500ms, 30s, 2m'],
    [{ vcgencmdTimeout: '0s' }, '--vcgencmd-timeout must be more than 0'],
    [{ collectors: 'cpu,gpu' }, 'invalid --collectors "gpu": expected one of cpu|thermal|freq|vcgencmd'],
    [{ collectors: ',' }, '--collectors is empty: choose from cpu,thermal,freq,vcgencmd'],
    [{ sysfsRoot: '/nonexistent' }, '--sysfs-root /nonexistent is not a directory'],
    [{ vcgencmd: '/nonexistent/vcgencmd' }, '--vcgencmd /nonexistent/vcgencmd is not an executable file'],
  ])('rejects %j in one line', (flags, message) => {
    expect(() => resolve(flags)).toThrow(message);
  });
});
