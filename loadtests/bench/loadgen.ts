import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { KEY_HEADER } from '../../lib/defaults.ts';
import { startService } from '../../lib/proc.ts';
import { runLoad } from '../engine.ts';

// npm run bench:loadgen — the runner's maximum request rate against a trivial
// local server, side by side with raw autocannon in the same run (same server,
// same connections, same duration, alternating order). Target: the runner costs
// at most 10 % of autocannon's rate (ratio ≥ 0.90). Also prints requests per
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
const server = startService(process.execPath, ['--import', tsx, fileURLToPath(new URL('./trivial-server.ts', import.meta.url))], { stdio: ['pipe', 'pipe', 'pipe'] });
const port = await new Promise<number>((resolve, reject) => {
  server.child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  void server.exited.then(() => reject(new Error(`trivial server exited: ${server.output()}`)));
});
const url = `http://127.0.0.1:${port}`;

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
    return r.attempted;
  });

// Warm both up (JIT, connections), then alternate the order each round.
await raw();
await runner();
const results: { raw: Measure[]; runner: Measure[] } = { raw: [], runner: [] };
for (let i = 0; i < ROUNDS; i++) {
  for (const which of i % 2 ? (['runner', 'raw'] as const) : (['raw', 'runner'] as const)) results[which].push(await (which === 'raw' ? raw() : runner()));
}
await server.stop();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const rawRps = median(results.raw.map((m) => m.rps));
const runRps = median(results.runner.map((m) => m.rps));
const rawCpu = median(results.raw.map((m) => m.perCpuSecond));
const runCpu = median(results.runner.map((m) => m.perCpuSecond));
const ratio = runRps / rawRps;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`bench:loadgen — ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, node ${process.version}, autocannon ${createRequire(import.meta.url)('autocannon/package.json').version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
console.log(`conditions: trivial raw-TCP server in its own process on 127.0.0.1, ${CONNECTIONS} connections, ${DURATION_S} s per run, ${ROUNDS} rounds alternating order, medians`);
console.log(`raw autocannon (static POST /vote/Deadpool): ${fmt(rawRps)} req/s, ${fmt(rawCpu)} req per CPU-second   runs: ${results.raw.map((m) => fmt(m.rps)).join(', ')}`);
console.log(`myhero-ops runner (closed model, votes):     ${fmt(runRps)} req/s, ${fmt(runCpu)} req per CPU-second   runs: ${results.runner.map((m) => fmt(m.rps)).join(', ')}`);
console.log(`ratio runner/autocannon: rate ${ratio.toFixed(3)}, per CPU-second ${(runCpu / rawCpu).toFixed(3)} (target: rate ≥ 0.90)`);
process.exitCode = ratio >= 0.9 ? 0 : 1;
