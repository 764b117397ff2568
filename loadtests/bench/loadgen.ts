import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { KEY_HEADER } from '../../lib/defaults.ts';
import { startService } from '../../lib/proc.ts';
import { runLoad } from '../engine.ts';

// npm run bench:loadgen — the runner's maximum rate of answered votes against a
// trivial local server, side by side with raw autocannon in the same run (same
// server, same connections, same duration, alternating order), once against a
// keep-alive server and once against a `Connection: close` server (one request
// per connection, as the original myhero answers). Target: the runner costs at
// most 10 % of autocannon's rate in both (ratio ≥ 0.90). Also prints answers per
// CPU-second of the generating process, which shows the cost even if the server
// were the bottleneck.

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = 'bench';

interface Measure {
  rps: number;
  perCpuSecond: number;
}

async function measure(fn: () => Promise<number>): Promise<Measure> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const requests = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rps: requests / DURATION_S, perCpuSecond: requests / ((cpu.user + cpu.system) / 1e6 || seconds) };
}

const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** One server mode: the trivial server in its own process, raw autocannon and the runner alternating against it. */
async function bench(mode: 'keep-alive' | 'close') {
  const server = startService(process.execPath, ['--import', tsx, fileURLToPath(new URL('./trivial-server.ts', import.meta.url)), mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    server.child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    void server.exited.then(() => reject(new Error(`trivial server exited: ${server.output()}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  // Answers only: on a close-mode server raw autocannon also writes a request on each closing connection, which is never answered.
  const raw = () =>
    measure(async () => {
      const r = await autocannon({ url: `${url}/vote/Deadpool`, method: 'POST', headers: { [KEY_HEADER]: KEY }, connections: CONNECTIONS, duration: DURATION_S });
      return r.requests.total;
    });
  const runner = () =>
    measure(async () => {
      const r = await runLoad({
        target: url,
        key: KEY,
        model: { kind: 'closed', voters: CONNECTIONS },
        durationMs: DURATION_S * 1000,
        // Votes only: the same request shape as the raw run; the runner still picks a hero per request.
        mix: { weights: { vote: 1, results: 0, options: 0 } },
        reconcile: false,
      });
      if (r.failed) throw new Error(`the runner counted ${r.failed} failed votes against a server that fails none: ${JSON.stringify(r.errors)}`);
      return r.accepted;
    });

  // Warm both up (JIT, connections), then alternate the order each round.
  await raw();
  await runner();
  const results: { raw: Measure[]; runner: Measure[] } = { raw: [], runner: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const which of i % 2 ? (['runner', 'raw'] as const) : (['raw', 'runner'] as const)) results[which].push(await (which === 'raw' ? raw() : runner()));
  }
  await server.stop();

  const rawRps = median(results.raw.map((m) => m.rps));
  const runRps = median(results.runner.map((m) => m.rps));
  const rawCpu = median(results.raw.map((m) => m.perCpuSecond));
  const runCpu = median(results.runner.map((m) => m.perCpuSecond));
  const ratio = runRps / rawRps;
  console.log(`${mode} server:`);
  console.log(`  raw autocannon (static POST /vote/Deadpool): ${fmt(rawRps)} answers/s, ${fmt(rawCpu)} per CPU-second   runs: ${results.raw.map((m) => fmt(m.rps)).join(', ')}`);
  console.log(`  myhero-ops runner (closed model, votes):     ${fmt(runRps)} answers/s, ${fmt(runCpu)} per CPU-second   runs: ${results.runner.map((m) => fmt(m.rps)).join(', ')}`);
  console.log(`  ratio runner/autocannon: rate ${ratio.toFixed(3)}, per CPU-second ${(runCpu / rawCpu).toFixed(3)} (target: rate ≥ 0.90)`);
  return ratio;
}

const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
console.log(`bench:loadgen — ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, node ${process.version}, autocannon ${createRequire(import.meta.url)('autocannon/package.json').version}, load average ${load()}`);
console.log(`conditions: trivial raw-TCP server in its own process on 127.0.0.1, ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} rounds alternating order, medians`);
const ratios = [await bench('keep-alive'), await bench('close')];
console.log(`load average at the end: ${load()}`);
process.exitCode = ratios.every((r) => r >= 0.9) ? 0 : 1;
