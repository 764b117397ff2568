import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { connectKube } from '../../lib/kube.ts';
import { startService } from '../../lib/proc.ts';
import { KEY_ON_COMMAND_LINE } from '../../lib/secrets.ts';
import { runCli } from '../../test/fixtures/cli.ts';
import { addNodes, myheroDeployment, startApiServer, startService as startStandInService, writeKubeconfig } from '../../test/fixtures/kube-apiserver/index.ts';
import { SLO_DEFAULTS } from '../capacity.ts';
import { runCapacity, type CapacityPlan } from '../capacity-run.ts';
import { capacityExitCode, exitCode, searchJudgeable } from '../cli.ts';
import { notReconciled, type Reconciliation } from '../reconcile.ts';
import { startFakeApp } from './fixtures/fake-app.ts';
import { startWorkerApp } from './fixtures/worker-app.ts';

// The capacity search against servers whose capacity is known: a stand-in that
// answers N votes per second on a wall-clock schedule and queues the rest (on its
// own thread, so its pace does not depend on the generator's), for two N; a raw
// server far faster than one generator thread (the generator must be named as the
// limit, not the target); the CLI's JSON contract and exit codes; and --k8s.

const dir = mkdtempSync(join(tmpdir(), 'loadtest-capacity-'));
const VOTES = { weights: { vote: 1, results: 0, options: 0 } };

const search = (target: string, o: Partial<Omit<CapacityPlan, 'load'>> = {}): CapacityPlan => ({
  load: { target, key: 'K', mix: VOTES, appMode: 'direct', seed: 7 },
  search: { startRate: 10, maxRate: 10_000, growth: 2, refineSteps: 3 },
  stepMs: 1000,
  settleMs: 200,
  slo: SLO_DEFAULTS,
  reconcile: { drainTimeoutMs: 5000, stableMs: 500 },
  ...o,
});

describe('loadtest capacity against a target of known capacity', () => {
  it('finds sustainedPerSec within ±15 % of N, for N = 50 and N = 200, and reconciles every step\'s votes', async () => {
    const capacities = [50, 200];
    const apps = await Promise.all(capacities.map((perSec) => startWorkerApp({ key: 'K', perSec })));
    try {
      // Both searches at once (each target on its own thread): the generator is far from busy at these rates.
      // Steps of 2 s: a stall of the shared machine of 200 ms must not eat a step's slack below the knee.
      const plan = (n: number) => search(`${apps[capacities.indexOf(n)]!.url}`, { search: { startRate: n * 0.7, maxRate: 10_000, growth: 1.5, refineSteps: 3 }, stepMs: 2000 });
      const results = await Promise.all(capacities.map((n) => runCapacity(plan(n))));
      for (const [i, r] of results.entries()) {
        const n = capacities[i]!;
        const bad = r.steps.find((s) => s.step === r.badStep)!;
        if (r.brokeBy === 'generator') {
          // A load machine so busy that the generator's timers ran a tenth of the SLO late near the knee: the
          // search must say so, and its figure is then a lower bound that cannot exceed the capacity.
          expect(bad.generator.lagP99Ms >= 100 || bad.generator.busy >= 0.9, r.verdict).toBe(true);
          expect(r.atLeast).toBe(true);
          expect(r.sustainedPerSec).toBeLessThanOrEqual(n * 1.15);
        } else {
          // The target's queue broke it, and the search found its capacity.
          expect(Math.abs(r.sustainedPerSec / n - 1), `N=${n}: ${r.verdict}`).toBeLessThanOrEqual(0.15);
          expect([r.brokeBy, r.atLeast], r.verdict).toEqual([expect.stringMatching(/^(throughput|latency)$/), false]);
        }
        expect(r.steps.every((s) => s.generator.busy < 0.9)).toBe(true);
        // The target never answered faster than its capacity, and the step above the knee is the first that broke.
        expect(bad.achievedPerSec).toBeLessThan(n * 1.05);
        expect(bad.offeredPerSec).toBeGreaterThan(r.sustainedPerSec);
        if (r.brokeBy !== 'generator') expect(r.verdict).toMatch(new RegExp(`^sustains ${r.sustainedPerSec}/s at p99 \\d+ ms \\(p99 ≤ 1 s, failed ≤ 1 %, achieved ≥ 95 % of offered\\); at ${bad.offeredPerSec}/s it broke by ${r.brokeBy}`));
        // Every step reported on its own; the votes of all of them counted at the end.
        expect(r.steps.map((s) => s.step)).toEqual(r.steps.map((_, k) => k + 1));
        const truth = await apps[i]!.truth();
        expect(r.acceptedTotal).toBe(truth.ok);
        expect(r.steps.reduce((a, s) => a + s.accepted, 0)).toBe(truth.ok);
        expect(r.reconciliation).toMatchObject({ outcome: 'counted', lost: 0, recordedDelta: truth.ok });
        expect(r.steps.every((s) => s.backlogAtEnd === 0)).toBe(true);
        expect(r.series.reduce((a, s) => a + s.accepted, 0)).toBe(truth.ok);
      }
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  }, 90_000);

  it('says the generator, not the target, was the limit when one thread cannot send the offered rate', async () => {
    // A raw server in its own process, far cheaper per request than the generator: 100 000 requests/s is beyond one generator thread.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const server = startService(process.execPath, ['--import', tsx, fileURLToPath(new URL('../bench/trivial-server.ts', import.meta.url)), 'keep-alive'], { stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve) => server.child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const r = await runCapacity(
        search(`http://127.0.0.1:${port}`, { search: { startRate: 500, maxRate: 100_000, growth: 200, refineSteps: 0 }, stepMs: 500, settleMs: 100, reconcile: false }),
      );
      expect(r.steps.map((s) => [s.phase, s.offeredPerSec, s.ok])).toEqual([
        ['grow', 500, true],
        ['grow', 100_000, false],
        ['retry', 100_000, false],
      ]);
      for (const s of r.steps.slice(1)) {
        expect(s).toMatchObject({ brokeBy: 'generator' });
        expect(s.generator.busy).toBeGreaterThanOrEqual(0.9);
        expect(s.achievedPerSec).toBeLessThan(95_000);
      }
      expect(r).toMatchObject({ sustainedPerSec: 500, brokeBy: 'generator', atLeast: true });
      expect(r.verdict).toMatch(/^sustains at least 500\/s .*; at 100000\/s the load generator, not the target, was the limit \(the load generator was busy \d+(\.\d)? % of the step: it could not send 100000\/s .*run it with --workers/);
      // Nothing judged the target: the command exits 3 unless a threshold vouches for the lower bound.
      expect(capacityExitCode(r, [])).toBe(EXIT.unjudged);
      expect(capacityExitCode(r, [{ threshold: 'sustained_per_sec>=100', actual: 500, ok: true }])).toBe(EXIT.passed);
      expect(capacityExitCode({ ...r, brokeBy: 'throughput' }, [])).toBe(EXIT.passed);
    } finally {
      await server.stop();
    }
  }, 60_000);
});

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

describe('exit codes of a capacity search', () => {
  const counted: Reconciliation = { outcome: 'counted', recordedDelta: 5, lost: 0, extra: 0, drainSeconds: 0, lostByHero: {}, extraByHero: {}, net: { lost: 0, extra: 0 } };
  const readFailed: Reconciliation = { ...notReconciled(), unsettledBy: 'read', reason: 'drain timeout (5 s) reached: the final read of the recorded votes failed: HTTP 500' };
  const failed = [{ threshold: 'sustained_per_sec>=100', actual: 40, ok: false }];

  it('a search the target left, or whose final read failed, cannot be judged: 3, even beside a failed threshold, in compare (exitCode) as in loadtest capacity', () => {
    const left = { unjudged: 'step 3 (40/s): the target refused connections during the run (4 votes)', reconciliation: counted };
    const unread = { reconciliation: readFailed };
    for (const s of [left, unread]) {
      expect(exitCode(false, failed, [searchJudgeable(s)])).toBe(EXIT.unjudged);
      expect(exitCode(false, [], [searchJudgeable(s)])).toBe(EXIT.unjudged);
      expect(capacityExitCode({ ...s, partial: false, brokeBy: 'throughput' }, failed)).toBe(EXIT.unjudged);
    }
    // The negative control: the same search, judged, exits on its thresholds.
    expect(exitCode(false, failed, [searchJudgeable({ reconciliation: counted })])).toBe(EXIT.failed);
    expect(exitCode(false, [], [searchJudgeable({ reconciliation: counted })])).toBe(EXIT.passed);
    expect(capacityExitCode({ reconciliation: counted, partial: false, brokeBy: 'throughput' }, failed)).toBe(EXIT.failed);
  });
});

describe('loadtest capacity (CLI)', () => {
  it('prints the JSON contract, writes the report, and exits 1 when a threshold on the knee fails', async () => {
    const app = await startFakeApp({ key: 'Cap-Key-42', perSec: 30 });
    try {
      const out = join(dir, 'cli');
      const r = await cli(
        ['loadtest', 'capacity', '--target', app.url, '--start-rate', '20', '--growth', '2', '--refine', '0', '--step', '1s', '--settle', '100ms', '--metrics-port', '0', '--json', '--out', out, '--threshold', 'sustained_per_sec>=1000', 'lost==0'],
        { MYHERO_APP_KEY: 'Cap-Key-42' },
      );
      expect(r.stderr).not.toMatch(/Error|at .*\.ts:\d+/);
      expect(r.code).toBe(EXIT.failed);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      for (const k of ['sustainedPerSec', 'brokeBy', 'slo', 'steps', 'reconciliation']) expect(j).toHaveProperty(k);
      expect(j).toMatchObject({ sustainedPerSec: 20, brokeBy: 'throughput', atLeast: false, slo: SLO_DEFAULTS, reconciliation: { outcome: 'counted', lost: 0, acceptedTotal: app.truth.ok } });
      const steps = j.steps as { offeredPerSec: number; achievedPerSec: number; acceptedPerSec: number; errors: object; latencyMs: object; backlogAtEnd: number | null; ok: boolean }[];
      expect(steps.map((s) => [s.offeredPerSec, s.ok])).toEqual([
        [20, true],
        [40, false],
      ]);
      for (const s of steps) expect(Object.keys(s)).toEqual(expect.arrayContaining(['offeredPerSec', 'achievedPerSec', 'acceptedPerSec', 'errors', 'latencyMs', 'backlogAtEnd', 'generator', 'why']));
      expect(j.thresholds).toEqual([
        { threshold: 'sustained_per_sec>=1000', actual: 20, ok: false },
        { threshold: 'lost==0', actual: 0, ok: true },
      ]);
      expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*target sustains 20\/s/);
      for (const f of ['summary.json', 'summary.md', 'report.html']) expect(readFileSync(join(out, f), 'utf8')).not.toContain('Cap-Key-42');
    } finally {
      await app.stop();
    }
  }, 60_000);

  it('--k8s switches the Deployment to --mode for the search and restores it', async () => {
    const api = await startApiServer({ msPerSecond: 5 });
    addNodes(api.cluster, ['pi-1']);
    api.cluster.apply(myheroDeployment('app', { replicas: 1, env: { myhero_app_mode: 'direct' } }));
    const service = await startStandInService(api.cluster, { namespace: 'default', selector: { app: 'myhero', tier: 'app' }, key: 'SecureApp' });
    try {
      const kubeconfig = writeKubeconfig(join(dir, 'kc.yaml'), { server: api.url });
      const kube = connectKube({ kubeconfig });
      await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
      const r = await cli(
        ['loadtest', 'capacity', '--k8s', '--target', service.url, '--mode', 'queue', '--kubeconfig', kubeconfig, '--start-rate', '5', '--max-rate', '5', '--step', '500ms', '--settle', '0', '--drain-timeout', '3s', '--metrics-port', '0', '--json', '--out', join(dir, 'k8s')],
        { MYHERO_APP_KEY: 'SecureApp' },
      );
      const j = JSON.parse(r.stdout) as { sustainedPerSec: number; atLeast: boolean; conditions: Record<string, unknown> };
      expect(j).toMatchObject({ sustainedPerSec: 5, atLeast: true, conditions: { mode: 'queue', deployment: 'default/myhero-app' } });
      // Switched to queue for the search, then back: two patches, and the original value in place.
      expect(api.requests.filter((q) => q.method === 'PATCH' && q.resource === 'deployments')).toHaveLength(2);
      expect((await kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.env).toEqual([{ name: 'myhero_app_mode', value: 'direct' }]);
      // --k8s without --mode is a usage error, before any cluster call; --key on the command line is warned about first.
      const before = api.requests.length;
      const bad = await cli(['loadtest', 'capacity', '--k8s', '--target', service.url, '--kubeconfig', kubeconfig, '--key', 'SecureApp']);
      expect(bad.code).toBe(EXIT.badInput);
      const [warning, error] = bad.stderr.trim().split('\n');
      expect(JSON.parse(warning!)).toMatchObject({ level: 40, msg: KEY_ON_COMMAND_LINE });
      expect(error).toMatch(/^myhero-ops: --k8s needs --mode/);
      expect(bad.stderr).not.toContain('SecureApp');
      expect(api.requests.length).toBe(before);
    } finally {
      await service.stop();
      await api.stop();
    }
  }, 60_000);
});
