import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { LOOPBACK } from '../../lib/defaults.ts';
import { createLogger } from '../../lib/log.ts';
import { freePort, waitForHttp } from '../../lib/net.ts';
import { startService, type Service } from '../../lib/proc.ts';
import { createProgress } from '../../lib/progress.ts';
import { BUNDLE_NODE_FLAGS, buildExporter } from '../build.ts';
import { installFakeVcgencmd } from '../test/fixtures/fake-vcgencmd.ts';
import { startNodeExporter } from '../test/fixtures/node-exporter.ts';
import { makeSysfs } from '../test/fixtures/sysfs.ts';
import { TICKS_PER_SECOND, readCpuTicks, readRss, type Rss } from './proc.ts';
import { createScraper, percentile } from './scrape.ts';

// npm run bench:exporter — the exporter bundle and Debian's node-exporter (thermal_zone
// collector only), each its own process, scraped alternately on the same Pi 4 fixture:
// resident memory after N scrapes and its growth since scrape 1,000, scrape latency
// p50/p99 (vcgencmd answers cached, as deployed), and CPU per scrape, with ratios.

const TARGETS = { rssMiB: 50, growthMiB: 2, p99Ms: 5 };
const WARMUP = 1000;

interface Measured {
  rssAtWarmup: Rss;
  rssAtEnd: Rss;
  p50: number;
  p99: number;
  cpuMsPerScrape: number;
}

const { values: args } = parseArgs({
  options: { scrapes: { type: 'string', default: '10000' }, json: { type: 'boolean', default: false } },
});
const scrapes = Number(args.scrapes);
if (!Number.isInteger(scrapes) || scrapes <= WARMUP) {
  process.stderr.write(`bench:exporter: --scrapes must be a whole number above ${WARMUP}\n`);
  process.exit(2);
}

const log = createLogger('bench:exporter', { json: args.json });
const dir = mkdtempSync(join(tmpdir(), 'rpi-bench-'));
const loadBefore = loadavg()[0]!;
const services: { stop(): Promise<void> }[] = [];
try {
  makeSysfs(dir, 'pi4');
  const vcgencmd = installFakeVcgencmd(dir, { throttled: '0x50005' });
  const { file } = await buildExporter(join(dir, 'dist'));

  const port = await freePort();
  const ours: Service = startService(process.execPath, [
    ...BUNDLE_NODE_FLAGS,
    file,
    `--listen=${LOOPBACK}:${port}`,
    `--sysfs-root=${dir}`,
    `--vcgencmd=${vcgencmd.path}`,
    '--vcgencmd-cache=5s',
  ]);
  services.push(ours);
  const oursUrl = `http://${LOOPBACK}:${port}`;
  await waitForHttp(`${oursUrl}/healthz`, 20_000);
  const node = await startNodeExporter(dir);
  services.push(node);

  const targets = [
    { name: 'rpi-exporter', pid: ours.child.pid!, scraper: createScraper(oursUrl), latencies: [] as number[] },
    { name: 'node-exporter', pid: node.service.child.pid!, scraper: createScraper(node.url), latencies: [] as number[] },
  ];
  const atWarmup = new Map<string, { rss: Rss; ticks: number }>();
  const progress = createProgress(log, { label: 'bench:exporter' });
  for (let i = 1; i <= scrapes; i++) {
    // Alternate, so both see the same machine conditions.
    for (const t of targets) t.latencies.push(await t.scraper.scrape());
    if (i === WARMUP) for (const t of targets) atWarmup.set(t.name, { rss: readRss(t.pid), ticks: readCpuTicks(t.pid) });
    progress.update({ scrapes: i, of: scrapes });
  }
  progress.done();

  const results: Record<string, Measured> = {};
  for (const t of targets) {
    const start = atWarmup.get(t.name)!;
    const sorted = [...t.latencies].sort((a, b) => a - b);
    results[t.name] = {
      rssAtWarmup: start.rss,
      rssAtEnd: readRss(t.pid),
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      cpuMsPerScrape: (((readCpuTicks(t.pid) - start.ticks) / TICKS_PER_SECOND) * 1000) / (scrapes - WARMUP),
    };
    t.scraper.close();
  }
  const ourR = results['rpi-exporter']!;
  const base = results['node-exporter']!;
  const mib = (kib: number) => kib / 1024;
  const growth = (m: Measured) => mib(m.rssAtEnd.total - m.rssAtWarmup.total);
  const rows: [string, number, number, string, boolean | undefined][] = [
    [`RSS after ${scrapes} scrapes (MiB)`, mib(ourR.rssAtEnd.total), mib(base.rssAtEnd.total), `≤ ${TARGETS.rssMiB}`, mib(ourR.rssAtEnd.total) <= TARGETS.rssMiB],
    ['  of which anonymous (MiB)', mib(ourR.rssAtEnd.anon), mib(base.rssAtEnd.anon), '', undefined],
    ['  of which mapped files (MiB)', mib(ourR.rssAtEnd.file), mib(base.rssAtEnd.file), '', undefined],
    [`RSS growth, scrape ${WARMUP} → ${scrapes} (MiB)`, growth(ourR), growth(base), `≤ ${TARGETS.growthMiB}`, growth(ourR) <= TARGETS.growthMiB],
    ['scrape latency p50 (ms)', ourR.p50, base.p50, '', undefined],
    ['scrape latency p99 (ms)', ourR.p99, base.p99, `≤ ${TARGETS.p99Ms}`, ourR.p99 <= TARGETS.p99Ms],
    [`CPU per scrape, after scrape ${WARMUP} (ms)`, ourR.cpuMsPerScrape, base.cpuMsPerScrape, '', undefined],
  ];
  const conditions = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: `${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after (1 min)`,
    node: process.version,
    nodeFlags: BUNDLE_NODE_FLAGS.join(' '),
    nodeExporter: execFileSync(node.service.child.spawnfile, ['--version'], { encoding: 'utf8' }).split('\n')[0],
    fixture: 'pi4 sysfs tree + fake vcgencmd (cpu, thermal, freq, vcgencmd collectors; vcgencmd cached 5s)',
    baseline: 'node-exporter --collector.disable-defaults --collector.thermal_zone (plus its default go_/process_ metrics)',
    scrapes,
  };
  const passed = rows.every((r) => r[4] !== false);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ conditions, results, targets: TARGETS, passed }, null, 2)}\n`);
  } else {
    const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(n !== 0 && Math.abs(n) < 0.1 ? 3 : 2));
    const lines = [
      '| measure | rpi-exporter | node-exporter | ratio | target | |',
      '| --- | ---: | ---: | ---: | --- | --- |',
      ...rows.map(
        ([label, a, b, target, ok]) =>
          `| ${label} | ${fmt(a)} | ${fmt(b)} | ${b === 0 ? '–' : `${fmt(a / b)}×`} | ${target} | ${ok === undefined ? '' : ok ? 'pass' : 'FAIL'} |`,
      ),
    ];
    process.stdout.write(`${Object.entries(conditions).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${lines.join('\n')}\n`);
  }
  process.exitCode = passed ? 0 : 1;
} finally {
  await Promise.all(services.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
}
