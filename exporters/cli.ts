import type { Command } from 'commander';
import { defineCommand } from '../lib/cli.ts';
import { startExporter } from './server.ts';
import { exporterSpec, toExporterOptions } from './settings.ts';

export function registerExporter(program: Command): void {
  defineCommand(program, {
    name: 'exporter',
    summary: 'Raspberry Pi temperature exporter on :9243, a drop-in for arm_exporter',
    help: [
      'Serves rpi_* metrics on /metrics, read at scrape time: CPU and thermal-zone temperatures, CPU frequencies, and from vcgencmd the GPU temperature, core voltage and throttling flags.',
      'A source that cannot be read is left out of that scrape and counted in rpi_exporter_collector_errors_total{collector}. Stops cleanly on SIGTERM or Ctrl-C.',
      'Example: myhero-ops exporter --listen 127.0.0.1:9243 --sysfs-root ./fixture --collectors cpu,thermal',
    ].join('\n\n'),
    section: 'exporter',
    spec: exporterSpec,
    async run(cfg, ctx) {
      const opts = toExporterOptions(cfg);
      const exporter = await startExporter({ ...opts, log: ctx.log });
      ctx.log.info({ url: exporter.url, collectors: opts.collectors, sysfsRoot: opts.sysfsRoot }, 'exporter listening');
      if (!ctx.signal.aborted) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      await exporter.stop();
      ctx.log.info('exporter stopped');
      return 0;
    },
  });
}
