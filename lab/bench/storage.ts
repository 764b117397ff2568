import { cpus, loadavg } from 'node:os';
import { KEYS } from '../../lib/defaults.ts';
import { startLab } from '../lab.ts';
import { STORAGE, STORAGE_PROFILES, type StorageProfile } from '../data/store.ts';

// bench:lab-storage — the capacity of the twin's data tier per storage profile:
// votes acknowledged per second by myhero-data (its own process) under a closed
// loop of concurrent writers, measured for the baseline profile `none` and for
// `pi-sd` in the same run. Prints a table (or --json) with the ratio to the baseline.

const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);

async function capacity(profile: StorageProfile): Promise<{ profile: StorageProfile; votes: number; votesPerSecond: number; p50Ms: number; p99Ms: number }> {
  const lab = await startLab({ mode: 'direct', dataPort: 0, appPort: 0, storageProfile: profile });
  try {
    const latencies: number[] = [];
    const end = Date.now() + DURATION_MS;
    const writer = async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const res = await fetch(`${lab.dataUrl}/vote/Hulk`, { method: 'POST', headers: { key: KEYS.dataDev } });
        await res.arrayBuffer();
        if (res.status === 200) latencies.push(performance.now() - t);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
    return { profile, votes: latencies.length, votesPerSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    await lab.stop();
  }
}

const results = [];
for (const profile of STORAGE_PROFILES) results.push(await capacity(profile));
const baseline = results[0]!.votesPerSecond;
const conditions = {
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model,
  loadavg1mAtEnd: Number(loadavg()[0]!.toFixed(2)),
  writers: WRITERS,
  durationMs: DURATION_MS,
  profiles: STORAGE,
};
const rows = results.map((r) => ({ ...r, ratioToNone: r.votesPerSecond / baseline }));
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ conditions, results: rows })}\n`);
} else {
  console.log(`data capacity, ${WRITERS} concurrent writers for ${DURATION_MS / 1000} s each (node ${process.version}, ${conditions.cpus} CPUs, load ${conditions.loadavg1mAtEnd})`);
  console.log('profile  votes/s   p50 ms   p99 ms   ratio to none');
  for (const r of rows) {
    console.log(`${r.profile.padEnd(8)} ${r.votesPerSecond.toFixed(1).padStart(7)} ${r.p50Ms.toFixed(1).padStart(8)} ${r.p99Ms.toFixed(1).padStart(8)}   ${r.ratioToNone.toFixed(3)}`);
  }
}
