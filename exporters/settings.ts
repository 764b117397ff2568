import { statSync } from 'node:fs';
import { setting, type Resolved } from '../lib/config.ts';
import { PORTS } from '../lib/defaults.ts';
import { UserError } from '../lib/errors.ts';
import { bool, duration, hostPort, list, oneOf, string, type Parser } from '../lib/parse.ts';
import { COLLECTORS } from './collectors/collector.ts';
import { DEFAULT_VCGENCMD_TIMEOUT_MS, type ExporterOptions } from './server.ts';
import { VCGENCMD_PATHS, locateVcgencmd } from './vcgencmd.ts';

// The exporter's settings, shared by `myhero-ops exporter` and the standalone bundle.
// Addresses and durations stay text as written (so --help shows "5s", not 5000) and are
// checked when read; toExporterOptions turns them into ExporterOptions.

/** Check a value with `parser` but keep the text. */
const checked =
  <T>(parser: Parser<T>): Parser<string> =>
  (raw, name) => {
    parser(raw, name);
    return raw.trim();
  };

export const exporterSpec = {
  listen: setting({
    flag: '--listen <host:port>',
    describe: 'address to serve /metrics, /healthz and the landing page on',
    default: `0.0.0.0:${PORTS.exporter}`,
    parse: checked(hostPort),
  }),
  sysfsRoot: setting({
    flag: '--sysfs-root <dir>',
    describe: 'directory holding sys/ (the host\'s / , or where /sys is mounted in a container, or a fixture tree)',
    default: '/',
    parse: string,
  }),
  vcgencmd: setting({
    flag: '--vcgencmd <path>',
    describe: `vcgencmd binary (default: the first of ${VCGENCMD_PATHS.join(', ')})`,
    default: '',
    parse: string,
  }),
  vcgencmdCache: setting({
    flag: '--vcgencmd-cache <duration>',
    describe: 'reuse vcgencmd answers for this long',
    default: '5s',
    parse: checked(duration),
  }),
  vcgencmdTimeout: setting({
    flag: '--vcgencmd-timeout <duration>',
    describe: 'give up on a vcgencmd run after this long',
    default: `${DEFAULT_VCGENCMD_TIMEOUT_MS / 1000}s`,
    parse: checked(duration),
  }),
  collectors: setting({
    flag: '--collectors <list>',
    describe: `collectors to run, comma-separated, from ${COLLECTORS.join(',')}`,
    default: [...COLLECTORS] as string[],
    parse: list(oneOf(COLLECTORS)),
  }),
  compatFrequencyKhz: setting({
    flag: '--compat-frequency-khz',
    describe: "report rpi_cpu_frequency_hertz in kHz (raw scaling_cur_freq), as arm_exporter's image did, for dashboards built on it",
    default: false,
    parse: bool,
  }),
};

export type ExporterSettings = Resolved<typeof exporterSpec>;

/** Settings → options, with one-line errors for what cannot work (missing sysfs root, vcgencmd that is not executable). */
export function toExporterOptions(cfg: ExporterSettings): ExporterOptions {
  const { host, port } = hostPort(cfg.listen, '--listen');
  let isDir = false;
  try {
    isDir = statSync(cfg.sysfsRoot).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new UserError(`--sysfs-root ${cfg.sysfsRoot} is not a directory`, 2);
  if (cfg.vcgencmd && !locateVcgencmd([cfg.vcgencmd])) throw new UserError(`--vcgencmd ${cfg.vcgencmd} is not an executable file`, 2);
  const timeoutMs = duration(cfg.vcgencmdTimeout, '--vcgencmd-timeout');
  if (timeoutMs <= 0) throw new UserError('--vcgencmd-timeout must be more than 0', 2);
  if (cfg.collectors.length === 0) throw new UserError(`--collectors is empty: choose from ${COLLECTORS.join(',')}`, 2);
  return {
    host,
    port,
    sysfsRoot: cfg.sysfsRoot,
    vcgencmd: cfg.vcgencmd || undefined,
    vcgencmdCacheMs: duration(cfg.vcgencmdCache, '--vcgencmd-cache'),
    vcgencmdTimeoutMs: timeoutMs,
    collectors: cfg.collectors,
    compatFrequencyKhz: cfg.compatFrequencyKhz,
  };
}
