import { parseArgs } from 'node:util';
import { resolveSettings } from '../lib/config.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { createJsonLog } from './log.ts';
import { startExporter } from './server.ts';
import { exporterSpec, toExporterOptions } from './settings.ts';
import { VERSION } from './version.ts';

// Entry of the standalone bundle (dist/exporter/rpi-exporter.mjs) that the container and
// the systemd unit run: the same settings and exporter as `myhero-ops exporter`, without
// the rest of the CLI. Flags only (no config file); JSON log lines on stderr.

const longName = (flag: string) => /--([a-z0-9-]+)/.exec(flag)![1]!;
const camel = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function usage(): string {
  const lines = Object.values(exporterSpec).map((s) => {
    const def = Array.isArray(s.default) ? s.default.join(',') : typeof s.default === 'boolean' ? '' : String(s.default);
    return `  ${s.flag.padEnd(30)} ${s.describe}${def ? ` (default: ${def})` : ''}`;
  });
  return `rpi-exporter ${VERSION}: Raspberry Pi temperature exporter, a drop-in for arm_exporter\n\nUsage: rpi-exporter [options]\n\n${lines.join('\n')}\n  --help                         show this help\n`;
}

async function main(argv: string[]): Promise<number> {
  const options = Object.fromEntries(
    Object.values(exporterSpec).map((s) => [longName(s.flag), { type: typeof s.default === 'boolean' ? ('boolean' as const) : ('string' as const) }]),
  );
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]} (run with --help for usage)`, 2);
  }
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  const flags = Object.fromEntries(Object.entries(values).map(([k, v]) => [camel(k), v]));
  const opts = toExporterOptions(resolveSettings(exporterSpec, { flags }));
  const log = createJsonLog('rpi-exporter');
  const exporter = await startExporter({ ...opts, log });
  log.info({ url: exporter.url, collectors: opts.collectors, sysfsRoot: opts.sysfsRoot, version: VERSION }, 'exporter listening');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info({ signal }, 'stopping');
  await exporter.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`rpi-exporter: ${describeError(err)}\n`);
    process.exit(err instanceof UserError ? err.exitCode : EXIT.unjudged);
  },
);
