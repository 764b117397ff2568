import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOADTEST } from '../../lib/catalog.ts';
import { KEY_ON_COMMAND_LINE } from '../../lib/secrets.ts';
import { freePort } from '../../lib/net.ts';
import { runCli, startCli } from '../../test/fixtures/cli.ts';
import { parseExposition, valueOf, type Exposition } from '../../test/fixtures/exposition.ts';
import { startFakeApp, type FakeApp } from './fixtures/fake-app.ts';

// The commands as a user runs them: bin/myhero-ops in a child process against a
// loopback myhero-app stand-in.

const KEY = 'Vote-Key-7f3a9c';
let app: FakeApp;
const dir = mkdtempSync(join(tmpdir(), 'loadtest-cli-'));
beforeAll(async () => {
  app = await startFakeApp({ key: KEY, vote: (n) => (n % 9 === 4 ? 'failed' : { delayMs: 5 }) });
});
afterAll(async () => app?.stop());

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

const base = () => ['loadtest', 'run', '--target', app.url, '--metrics-port', '0'];

describe('loadtest run', () => {
  it('prints the JSON contract, writes the report, serves live metrics, and fails on a failed threshold', async () => {
    const out = join(dir, 'run');
    const port = await freePort();
    const running = startCli([...base(), '--voters', '4', '--duration', '2s', '--json', '--out', out, '--metrics-port', String(port), '--threshold', 'lost==0', 'p99<0.001ms'], {
      env: { MYHERO_APP_KEY: KEY },
    });
    let scraped: Exposition = parseExposition('');
    for (let i = 0; i < 100 && valueOf(scraped, LOADTEST.votesAccepted, { mode: 'run' }) === undefined; i++) {
      scraped = parseExposition(await fetch(`http://127.0.0.1:${port}/metrics`).then((x) => x.text(), () => ''));
      await new Promise((res) => setTimeout(res, 100));
    }
    const r = await running.result;
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['attempted', 'accepted', 'failed', 'acceptedPerSec', 'requestsPerSec', 'latencyMs', 'errors', 'recordedDelta', 'lost', 'extra', 'drainSeconds', 'conditions']) expect(j).toHaveProperty(k);
    expect(Object.keys(j.latencyMs as object)).toEqual(['p50', 'p90', 'p99', 'p999', 'max']);
    expect(j).toMatchObject({ lost: 0, extra: 0, partial: false, errors: { vote_failed: expect.any(Number) } });
    expect((j.conditions as Record<string, unknown>).machine).toMatchObject({ cpus: expect.any(Number), node: process.version });
    expect(j.thresholds).toEqual([
      { threshold: 'lost==0', actual: 0, ok: true },
      { threshold: 'p99<0.001ms', actual: expect.any(Number), ok: false },
    ]);
    expect(valueOf(scraped, LOADTEST.votesAttempted, { mode: 'run' })).toBeGreaterThanOrEqual(1);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { kind: string; result: { series: unknown[] } };
    expect(summary.kind).toBe('run');
    expect(summary.result.series.length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*FAIL\*\* `p99<0.001ms`/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
    for (const text of [r.stdout, r.stderr, ...['summary.json', 'summary.md', 'report.html'].map((f) => readFileSync(join(out, f), 'utf8'))]) expect(text).not.toContain(KEY);
  });

  it('prints a table and passes when thresholds hold; takes the key from a file', async () => {
    const keyFile = join(dir, 'key');
    (await import('node:fs')).writeFileSync(keyFile, `${KEY}\n`);
    const r = await cli([...base(), '--voters', '2', '--duration', '1s', '--key-file', keyFile, '--out', join(dir, 'table'), '--threshold', 'lost==0,failed_rate<0.5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/accepted\/s +failed +p50 ms/);
    expect(r.stdout).toMatch(/threshold ok {3}lost==0: 0/);
    expect(r.stdout).toMatch(/report: .*table\/report.html/);
    expect(r.stderr).not.toContain('process list');
  });

  it('reports an unreachable target in one line within 5 s, exit 3 (the run could not be judged)', async () => {
    // The CLI's own start-up (loading every command's modules) is measured and set aside:
    // on a busy two-core machine it alone can take seconds.
    const startup = (await cli(['loadtest', 'run', '--help'])).ms;
    const port = await freePort();
    const r = await cli(['loadtest', 'run', '--target', `http://127.0.0.1:${port}`, '--metrics-port', '0'], { MYHERO_APP_KEY: KEY });
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([`myhero-ops: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`]);
    expect(r.ms - startup).toBeLessThan(5000);
  });

  it('reports a wrong key as an authentication failure with a hint, not as load', async () => {
    const before = app.truth.votes;
    const r = await cli([...base(), '--key', 'wrong-key']);
    expect(r.code).toBe(2);
    // --key on the command line is readable by every user of the machine: a warning first.
    const [warning, error, ...more] = r.stderr.trim().split('\n');
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: KEY_ON_COMMAND_LINE });
    expect(error).toMatch(/^myhero-ops: authentication failed: .* answered HTTP 401 \(the key was rejected\); pass the myhero-app key with --key, env MYHERO_APP_KEY or --key-file/);
    expect(more).toEqual([]);
    expect(r.stderr).not.toContain('wrong-key');
    expect(app.truth.votes).toBe(before);
  });

  it('rejects an invalid duration, rate or threshold as a usage error (exit 2, one line)', async () => {
    const cases: [string[], RegExp][] = [
      [['--duration', 'soon'], /^myhero-ops: invalid --duration "soon": expected a duration such as 500ms, 30s, 2m$/],
      [['--rate', '-5'], /^myhero-ops: invalid --rate "-5"/],
      [['--threshold', 'p98<1'], /^myhero-ops: invalid --threshold "p98<1": unknown metric "p98"/],
      [['--threshold', 'ratio>1'], /^myhero-ops: --threshold: ratio and direct\.\/queue\. thresholds belong to loadtest compare$/],
      [['--threshold', 'capacity_ratio>1'], /^myhero-ops: --threshold "capacity_ratio>1" applies to loadtest compare only$/],
      [['--threshold', 'sustained_per_sec>=10'], /^myhero-ops: --threshold "sustained_per_sec>=10" applies to a capacity search/],
      [['--metrics-url', 'broker=http://127.0.0.1:1/metrics'], /^myhero-ops: invalid --metrics-url "broker=.*": expected URLs, or service=URL pairs \(app, data, ernst\)/],
    ];
    const before = app.truth.votes;
    // Independent processes: run them side by side.
    const runs = await Promise.all(cases.map(([args]) => cli([...base(), ...args], { MYHERO_APP_KEY: KEY })));
    runs.forEach((r, i) => {
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(cases[i]![1]);
    });
    // Refused before any load, not after it.
    expect(app.truth.votes).toBe(before);
  });

  it('a final read of the results that fails: lost unknown with the reason in every output, exit 3', async () => {
    const flaky = await startFakeApp({ key: KEY, recordDelayMs: 60_000 });
    try {
      const out = join(dir, 'read-failed');
      const running = startCli(['loadtest', 'run', '--target', flaky.url, '--metrics-port', '0', '--voters', '2', '--duration', '1s', '--drain-timeout', '1s', '--json', '--out', out, '--threshold', 'p99<10s'], {
        env: { MYHERO_APP_KEY: KEY },
      });
      while (flaky.truth.votes < 5) await new Promise((res) => setTimeout(res, 20));
      flaky.failResults = true;
      const r = await running.result;
      expect(r.code).toBe(3);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(j).toMatchObject({ outcome: 'not-settled', lost: null, extra: null, drainSeconds: null, reason: expect.stringMatching(/final read of the recorded votes failed: .*HTTP 500/) });
      expect(j.thresholds).toEqual([{ threshold: 'p99<10s', actual: expect.any(Number), ok: true }]);
      const reason = String(j.reason);
      const md = readFileSync(join(out, 'summary.md'), 'utf8');
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(md).toContain(`NOT SETTLED`);
      expect(md).toContain(reason);
      expect(html).toContain('NOT SETTLED');
      expect(html).toContain(reason.replace(/"/g, '&quot;'));
      expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ outcome: 'not-settled', lost: null, reason });
    } finally {
      await flaky.stop();
    }
  });

  it('stops within 2 s on Ctrl-C and writes a partial report', async () => {
    const out = join(dir, 'interrupted');
    let signalledAt = 0;
    const running = startCli([...base(), '--voters', '4', '--duration', '60s', '--out', out, '--json'], { env: { MYHERO_APP_KEY: KEY } });
    // Wait until the load is on (the target counts votes), then interrupt.
    const start = app.truth.votes;
    while (app.truth.votes < start + 20) await new Promise((res) => setTimeout(res, 50));
    signalledAt = Date.now();
    running.child.kill('SIGINT');
    const r = await running.result;
    const stoppedAfter = Date.now() - signalledAt;
    expect(r.code).toBe(130);
    expect(stoppedAfter).toBeLessThan(2500);
    expect(r.stderr).toMatch(/SIGINT received, stopping/);
    expect(JSON.parse(r.stdout)).toMatchObject({ partial: true });
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ partial: true });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/class="warning">PARTIAL/);
  });
});

describe('loadtest compare', () => {
  it('checks every target before trial 1: an unreachable --queue fails at once, before any vote to --direct', async () => {
    const before = app.truth.votes;
    const port = await freePort();
    const r = await cli(['loadtest', 'compare', '--direct', app.url, '--queue', `http://127.0.0.1:${port}`, '--key', KEY, '--metrics-port', '0', '--trials', '1', '--duration', '1s']);
    expect(r.code).toBe(3);
    const [warning, ...lines] = r.stderr.trim().split('\n');
    expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: KEY_ON_COMMAND_LINE });
    expect(lines).toEqual([`myhero-ops: cannot reach http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`]);
    expect(r.stderr).not.toContain(KEY);
    expect(app.truth.votes).toBe(before);
  });

  it('a drain that times out is "not settled", never "lost", in the verdict, the Markdown and the HTML; a lost==0 threshold cannot be judged (exit 3)', async () => {
    // The queue's votes reach the results 2.5 s after they are accepted; the drain gives up after 1 s.
    const slow = await startFakeApp({ key: KEY, recordDelayMs: 2500 });
    try {
      const out = join(dir, 'compare-timeout');
      const r = await cli(['loadtest', 'compare', '--direct', app.url, '--queue', slow.url, '--metrics-port', '0', '--trials', '1', '--voters', '2', '--duration', '1s', '--drain-timeout', '1s', '--json', '--out', out, '--threshold', 'lost==0'], { MYHERO_APP_KEY: KEY });
      expect(r.code).toBe(3);
      const j = JSON.parse(r.stdout) as { verdict: string; modes: Record<string, { outcome: string; lost: number | null }>; thresholds: { mode: string; ok: boolean; unknown?: boolean }[] };
      expect(j.modes.queue).toMatchObject({ outcome: 'not-settled', lost: null });
      expect(j.modes.direct).toMatchObject({ outcome: 'counted', lost: 0 });
      expect(j.thresholds).toEqual([
        { threshold: 'lost==0', mode: 'direct', actual: 0, ok: true },
        { threshold: 'lost==0', mode: 'queue', actual: null, ok: false, unknown: true },
      ]);
      expect(j.verdict).toMatch(/NOT SETTLED, not proven lost: queue \d+ not yet counted \(trial 1: drain timeout \(1 s\) reached/);
      for (const text of [j.verdict, readFileSync(join(out, 'summary.md'), 'utf8'), readFileSync(join(out, 'report.html'), 'utf8')]) {
        expect(text).toContain('NOT SETTLED');
        expect(text).not.toMatch(/LOST/);
      }
      expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*UNKNOWN\*\* `lost==0` \(queue\): unknown/);
    } finally {
      await slow.stop();
    }
  });
});
