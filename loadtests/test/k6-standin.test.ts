import { execFileSync, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_HEADER } from '../../lib/defaults.ts';
import { startLab, type Lab } from '../../lab/lab.ts';
import { bundleK6 } from '../k6bundle.ts';
import type { K6Run } from '../k6/lib/summary.ts';
import { summaryRecipe } from '../k6operator.ts';
import { startFakeApp, type FakeApp } from './fixtures/fake-app.ts';

// The bundled vote script, byte for byte, run against the real lab twin. k6 itself
// cannot be installed here, so its k6/* imports are served by a stand-in that runs
// one VU (fixtures/k6-shim/README.md): this checks the script's requests, checks,
// metrics, drain, reconciliation, summary and exit codes, not k6's scheduler.

const RUN = fileURLToPath(new URL('./fixtures/k6-shim/run.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const KEY = 'K6-Lab-Key-6f1c';

let dir: string;
let script: string;

interface K6Exit {
  code: number | null;
  stdout: string;
  stderr: string;
  /** With `merged`: stdout and stderr in one stream, in the order written, as a pod log holds them. */
  log: string;
  summary?: K6Run;
  ms: number;
}

/**
 * `k6 run vote.js -e ...` with the stand-in, in a scratch folder; only PATH and HOME from this
 * process. `merged` writes stdout and stderr to one file, as the container runtime does.
 */
function k6run(env: Record<string, string>, opts: { merged?: boolean } = {}): Promise<K6Exit> {
  const cwd = mkdtempSync(join(dir, 'run-'));
  const args = ['--import', TSX, RUN, 'run', script, ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])];
  const logFile = join(cwd, 'pod.log');
  const fd = opts.merged ? openSync(logFile, 'w') : undefined;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const stdio: StdioOptions = fd === undefined ? 'pipe' : ['ignore', fd, fd];
    const child: ChildProcess = spawn(process.execPath, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, stdio });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d));
    child.stderr?.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (fd !== undefined) closeSync(fd);
      const file = join(cwd, 'summary.json');
      const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as K6Run) : undefined;
      resolve({ code, stdout, stderr, log: fd === undefined ? '' : readFileSync(logFile, 'utf8'), summary, ms: Date.now() - started });
    });
  });
}

async function recorded(lab: Lab): Promise<number> {
  const res = await fetch(`${lab.appUrl}/v2/results`, { headers: { [KEY_HEADER]: KEY } });
  return ((await res.json()) as [string, number, number][]).reduce((a, r) => a + r[1], 0);
}

const quick = { MYHERO_APP_KEY: KEY, DRAIN_STABLE: '0.5s', TIMEOUT: '3s' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'k6-standin-'));
  script = join(dir, 'vote.js');
  writeFileSync(script, (await bundleK6()).vote);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('vote.js on the direct-mode twin', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ mode: 'direct', dataPort: 0, appPort: 0, mqttPort: 0, appKey: KEY });
  }, 60_000);
  afterAll(() => lab?.stop());

  it('closed model: every accepted vote recorded, thresholds pass, exit 0, key never printed', async () => {
    const before = await recorded(lab);
    const r = await k6run({ ...quick, TARGET: lab.appUrl, VOTERS: '4', DURATION: '1.5s', WARMUP: '0.5s', THRESHOLDS: 'p99<5s,failed_rate<0.01,lost==0,extra==0,attempted>0' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = r.summary!;
    expect(s.attempted).toBeGreaterThan(10);
    expect(s.accepted).toBe(s.attempted);
    expect(s).toMatchObject({ failed: 0, errors: {}, outcome: 'counted', lost: 0, extra: 0, ok: true, engine: 'k6' });
    expect(s.conditions).toMatchObject({ model: 'closed', voters: 4, durationSeconds: 1.5, warmupSeconds: 0.5, measuredSeconds: 1, target: lab.appUrl });
    expect(s.acceptedPerSec).toBeCloseTo(s.accepted / 1, 2);
    expect(s.latencyMs.p50).toBeGreaterThan(0);
    expect(s.latencyMs.max).toBeGreaterThanOrEqual(s.latencyMs.p99);
    expect(s.thresholds.map((t) => [t.expr, t.ok])).toEqual([['p99<5s', true], ['failed_rate<0.01', true], ['lost==0', true], ['extra==0', true], ['attempted>0', true]]);
    // The script's own reconciliation agrees with what the twin says, warm-up votes included.
    expect(await recorded(lab)).toBe(before + s.recordedDelta!);
    expect(s.recordedDelta).toBe(s.acceptedTotal);
    expect(s.acceptedTotal).toBeGreaterThan(s.accepted);
    expect(r.stdout).toMatch(/myhero vote load \(k6\).*closed model, 4 voters/);
    expect(r.stdout + JSON.stringify(s)).not.toContain(KEY);
  });

  it('open model: a fixed arrival rate; a failed threshold fails the run with k6 exit code 99', async () => {
    const r = await k6run({ ...quick, TARGET: lab.appUrl, RATE: '40', DURATION: '1.5s', THRESHOLDS: 'lost==0,p50<0.001ms' });
    expect(r.code).toBe(99);
    const s = r.summary!;
    expect(s.conditions).toMatchObject({ model: 'open', rate: 40, connections: 40 });
    // 60 arrivals due: each a vote with probability 0.9, or dropped when the one VU was busy.
    expect(s.attempted + s.dropped).toBeGreaterThan(30);
    expect(s.attempted + s.dropped).toBeLessThanOrEqual(60);
    expect(s.ok).toBe(false);
    expect(s.thresholds).toEqual([
      { expr: 'lost==0', ok: true, judgedBy: 'summary' },
      { expr: 'p50<0.001ms', ok: false, judgedBy: 'k6' },
    ]);
    expect(r.stdout).toMatch(/FAIL +p50<0.001ms/);
  });
});

describe('vote.js against targets that fail it, and the k6-operator log recipe (run side by side)', () => {
  // Independent runs against loopback stand-ins of myhero-app (fixtures/fake-app.ts), started
  // together: an unreachable target; a wrong key and a crossed threshold, as two k6-operator
  // runners' pod logs; a target whose results fail once the load began; a direct-mode target
  // that drops every second accepted vote. Setup failures ask for a long load: they must end
  // long before it.
  const WRONG = 'Wrong-Key-b7e2';
  let plain: FakeApp;
  let failing: FakeApp;
  let lossy: FakeApp;
  let runs: Record<'unreachable' | 'wrongKey' | 'crossed' | 'readFails' | 'lossy', K6Exit>;
  beforeAll(async () => {
    [plain, failing, lossy] = await Promise.all([startFakeApp({ key: KEY }), startFakeApp({ key: KEY }), startFakeApp({ key: KEY, loseEvery: 2 })]);
    const load = { ...quick, VOTERS: '2', DURATION: '0.6s', DRAIN_TIMEOUT: '1s', MIX: 'vote=1', THRESHOLDS: 'lost==0' };
    const pod = { ...quick, TARGET: plain.url, PARALLELISM: '2', SUMMARY_STDOUT: 'json', SUMMARY_JSON: '', VOTERS: '2', DURATION: '0.6s' };
    const readFails = k6run({ ...load, TARGET: failing.url });
    // Once the load is on (setup has read the count), /v2/results answers HTTP 500 for good.
    const flip = setInterval(() => failing.truth.votes > 0 && ((failing.failResults = true), clearInterval(flip)), 10);
    const [unreachable, wrongKey, crossed, r, l] = await Promise.all([
      k6run({ TARGET: 'http://127.0.0.1:9', MYHERO_APP_KEY: KEY, DURATION: '10m' }),
      k6run({ ...pod, MYHERO_APP_KEY: WRONG, DURATION: '10m', SUMMARY_JSON: 'summary.json' }, { merged: true }),
      k6run({ ...pod, THRESHOLDS: 'p50<0.001ms' }, { merged: true }),
      readFails.finally(() => clearInterval(flip)),
      k6run({ ...load, TARGET: lossy.url, APP_MODE: 'direct' }),
    ]);
    runs = { unreachable, wrongKey, crossed, readFails: r, lossy: l };
  }, 60_000);
  afterAll(() => Promise.all([plain?.stop(), failing?.stop(), lossy?.stop()]));

  it('a wrong key stops in setup as an authentication failure, not as load; the summary says it never ran', () => {
    const r = runs.wrongKey;
    expect(r.code).toBe(107);
    expect(r.log).toMatch(/^time="[^"]+" level=error msg="authentication failed: GET \/options answered HTTP 401 .*MYHERO_APP_KEY.*" hint="script exception"$/m);
    // k6 calls handleSummary after a failed setup(): a run that never happened must not read as passed.
    expect(r.summary).toMatchObject({ ran: false, ok: false, attempted: 0, recordedDelta: null, outcome: 'not-settled', lost: null });
    expect(r.summary!.notJudged).toMatch(/^setup\(\) did not complete/);
    expect(r.summary!.thresholds.every((t) => !t.ok && t.judgedBy === 'none')).toBe(true);
    expect(r.log + JSON.stringify(r.summary)).not.toContain(WRONG);
    expect(r.ms).toBeLessThan(60_000);
  });

  it("the k6-operator recipe picks each runner's summary line out of its pod log, k6's error lines around it", () => {
    const { crossed, wrongKey } = runs;
    expect(crossed.code).toBe(99);
    // The line a `--tail=1` would take is k6's error, not the summary.
    expect(crossed.log.trim().split('\n').pop()).toMatch(/^time=".*" level=error msg="thresholds on metrics 'myhero_vote_duration' have been crossed"$/);
    const line = crossed.log.split('\n').find((l) => l.startsWith('{'))!;
    const summary = JSON.parse(line) as K6Run;
    expect(summary.acceptedTotal).toBeGreaterThan(0);
    const [jq, ...jqArgs] = summaryRecipe('default', 'myhero-vote').jq;
    const out = JSON.parse(execFileSync(jq!, jqArgs, { input: crossed.log + wrongKey.log, encoding: 'utf8' })) as Record<string, unknown>;
    expect(out).toEqual({
      runners: 2,
      ok: false,
      accepted: summary.acceptedTotal,
      recorded: summary.recordedDelta,
      lost: Math.max(0, summary.acceptedTotal - summary.recordedDelta!),
    });
  });

  it('an unreachable target stops in setup with one line', () => {
    const r = runs.unreachable;
    expect(r.code).toBe(107);
    expect(r.stderr.trim()).toMatch(/^time="[^"]+" level=error msg="target http:\/\/127.0.0.1:9 unreachable \(GET \/options\): dial: connection refused" hint="script exception"$/);
    expect(r.summary).toMatchObject({ ran: false, ok: false });
    expect(r.ms).toBeLessThan(60_000);
  });

  it("teardown's read of the results failing is not settled, never lost: lost unknown, the read in the reason", () => {
    const s = runs.readFails.summary!;
    expect(s.accepted).toBeGreaterThan(0);
    expect(s).toMatchObject({ outcome: 'not-settled', unsettledBy: 'read', recordedDelta: null, lost: null, extra: null, drainSeconds: null, ok: false });
    expect(s.reason).toMatch(/drain timeout \(1 s\) reached: the final read of the recorded votes failed: GET \/v2\/results answered HTTP 500/);
    expect(s.thresholds).toEqual([{ expr: 'lost==0', ok: false, judgedBy: 'summary', unknown: true }]);
    expect(runs.readFails.stdout).toMatch(/NOT SETTLED: accepted \d+, recorded unknown, not yet counted unknown; lost unknown/);
    expect(runs.readFails.stdout).toMatch(/UNKNOWN +lost==0/);
  });

  it('a direct-mode target that dropped votes: lost, exactly what the target failed to record', () => {
    const s = runs.lossy.summary!;
    const dropped = lossy.truth.ok - lossy.truth.recorded;
    expect(dropped).toBeGreaterThan(0);
    expect(s.acceptedTotal).toBe(lossy.truth.ok);
    expect(s).toMatchObject({ outcome: 'lost', lost: dropped, extra: 0, recordedDelta: lossy.truth.recorded, ok: false });
    expect(s.thresholds).toEqual([{ expr: 'lost==0', ok: false, judgedBy: 'summary' }]);
    expect(runs.lossy.stdout).toMatch(new RegExp(`LOST: accepted ${s.acceptedTotal}, recorded ${lossy.truth.recorded}, lost ${dropped}`));
  });
});

describe('vote.js on the queue-mode twin', () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ mode: 'queue', dataPort: 0, appPort: 0, mqttPort: 0, appKey: KEY });
  }, 60_000);
  afterAll(() => lab?.stop());

  it('teardown waits for the queue to drain: nothing lost although ernst is killed mid-run', async () => {
    // The default stable window (3 s): a shorter one can mistake a consumer still restarting for a drained queue.
    const run = k6run({ ...quick, DRAIN_STABLE: '3s', TARGET: lab.appUrl, VOTERS: '4', DURATION: '2s', THRESHOLDS: 'lost==0,failed_rate<0.01' });
    await new Promise((r) => setTimeout(r, 800));
    await lab.restartErnst();
    const r = await run;
    expect(r.code).toBe(0);
    const s = r.summary!;
    expect(s.accepted).toBeGreaterThan(10);
    expect(s).toMatchObject({ outcome: 'counted', lost: 0, extra: 0, ok: true });
    expect(s.recordedDelta).toBe(s.accepted);
    expect(s.drainSeconds).not.toBeNull();
  });
});
