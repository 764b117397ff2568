import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { UserError } from '../lib/errors.ts';
import { listen, urlHost } from '../lib/net.ts';
import type { ExporterLog } from './log.ts';
import { COLLECTORS, type Collector, type CollectorName } from './collectors/collector.ts';
import { cpuCollector } from './collectors/cpu.ts';
import { freqCollector } from './collectors/freq.ts';
import { thermalCollector } from './collectors/thermal.ts';
import { vcgencmdCollector } from './collectors/vcgencmd.ts';
import { createExporterRegistry } from './registry.ts';
import { createVcgencmd, locateVcgencmd } from './vcgencmd.ts';
import { VERSION } from './version.ts';

// The exporter's HTTP side: /metrics, /healthz and a landing page on node:http.

export interface ExporterOptions {
  host: string;
  /** 0 = ephemeral. */
  port: number;
  /** The directory holding sys/ ('/' on a host, '/host' in the container, a fixture in tests). */
  sysfsRoot: string;
  /** undefined: look in /usr/bin, then /opt/vc/bin. */
  vcgencmd?: string;
  vcgencmdCacheMs: number;
  /** How long one vcgencmd run may take (default 1 s). */
  vcgencmdTimeoutMs?: number;
  collectors: string[];
  /** Report rpi_cpu_frequency_hertz in kHz, as arm_exporter's image did (dashboards built for it read 1000× high otherwise). */
  compatFrequencyKhz?: boolean;
  log?: ExporterLog;
}

export interface RunningExporter {
  url: string;
  stop(): Promise<void>;
}

export const DEFAULT_VCGENCMD_TIMEOUT_MS = 1000;

function isCollectorName(name: string): name is CollectorName {
  return (COLLECTORS as readonly string[]).includes(name);
}

function createCollectors(opts: ExporterOptions): Collector[] {
  const build: Record<CollectorName, () => Collector> = {
    cpu: () => cpuCollector(opts.sysfsRoot),
    thermal: () => thermalCollector(opts.sysfsRoot),
    freq: () => freqCollector(opts.sysfsRoot, { khz: opts.compatFrequencyKhz ?? false }),
    vcgencmd: () =>
      vcgencmdCollector(
        createVcgencmd({
          path: opts.vcgencmd ?? locateVcgencmd(),
          timeoutMs: opts.vcgencmdTimeoutMs ?? DEFAULT_VCGENCMD_TIMEOUT_MS,
          cacheMs: opts.vcgencmdCacheMs,
        }),
      ),
  };
  const names = [...new Set(opts.collectors)];
  if (names.length === 0) throw new UserError(`no collectors enabled: choose from ${COLLECTORS.join(',')}`, 2);
  return names.map((name) => {
    if (!isCollectorName(name)) throw new UserError(`unknown collector "${name}": choose from ${COLLECTORS.join(',')}`, 2);
    return build[name]();
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function landingPage(collectors: Collector[]): string {
  const rows = collectors
    .map((c) => `<li><b>${c.name}</b>: ${c.gauges.map((g) => `<code>${escapeHtml(g.name)}</code>`).join(', ')}</li>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Raspberry Pi exporter</title></head>
<body><h1>Raspberry Pi exporter ${escapeHtml(VERSION)}</h1>
<p>Drop-in for arm_exporter. <a href="/metrics">Metrics</a> · <a href="/healthz">Health</a></p>
<ul>${rows}</ul></body></html>\n`;
}

function handler(registry: Registry, landing: string, log: ExporterLog | undefined) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
        (err: unknown) => {
          log?.error({ err }, 'scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${String(err)}\n`);
        },
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(landing);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
    }
  };
}

/** Serve the exporter; resolves once it listens. Bad options and a taken port are UserErrors. */
export async function startExporter(opts: ExporterOptions): Promise<RunningExporter> {
  const collectors = createCollectors(opts);
  const registry = createExporterRegistry(collectors, { version: VERSION, log: opts.log });
  const server = createServer(handler(registry, landingPage(collectors), opts.log));
  const port = await listen(server, opts.port, opts.host, 'the exporter');
  return {
    url: `http://${urlHost(opts.host)}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections from Prometheus would otherwise hold the close open.
        server.closeIdleConnections();
      }),
  };
}
