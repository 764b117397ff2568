import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadGameday } from '../experiment.ts';
import type { JournalData } from '../journal.ts';
import { ROOT, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';

// The two Istio experiments as game days on the stand-in with Istio: the stand-in
// Service applies the VirtualService's fault to the load it routes, so the fault shows
// in the load figures and vanishes after the rollback. Their negative control: the same
// game day with the load bypassing the mesh (a NodePort client) fails the fault verdict.
// Timing-sensitive (real load, real delays), so serial; the fault windows are short.

let c: TestCluster;
afterEach(() => c?.stop());

const APP_ABORT = join(ROOT, 'chaos/experiments/app-abort.yaml');
const UI_DELAY = join(ROOT, 'chaos/experiments/ui-delay.yaml');

/** app-abort.yaml scaled down: 60 votes/s, a 5 s fault at 50 %, judged within ±15 points (about 160 votes). */
const abortVars = (c: TestCluster) => ({
  MYHERO_APP_URL: c.service.url,
  LOAD_RATE: '60',
  SETTLE: '1s',
  ABORT_PERCENT: '50',
  FAULT_FOR: '5s',
  MESH_SETTLE: '400ms',
  RECOVERY: '3s',
  PRECISION: '15',
});

const byName = (j: JournalData) => Object.fromEntries(j.verdicts.map((v) => [v.name, v]));

/** The load's error rate per sample, split by the fault's window. */
function errorRates(j: JournalData): { during: number[]; after: number[] } {
  const w = j.windows[0]!;
  const rates = (f: (t: number) => boolean) => j.samples.filter((s) => s.errorRate !== undefined && f(s.t)).map((s) => s.errorRate!);
  // A sample shows the load's latest whole second, which is emitted a moment after it ends.
  return { during: rates((t) => t > w.from + 2500 && t < w.to!), after: rates((t) => t > w.to! + 3000) };
}

describe('Istio fault game days (chaos/experiments/app-abort.yaml, ui-delay.yaml)', () => {
  it('app-abort: the load sees half its votes answered 500 during the fault, none after; votes fail fast', async () => {
    c = await startCluster({ objects: manifests(true), istio: true });
    await settle(c);
    const j = await run(c, loadGameday(APP_ABORT, { namespace: 'default', vars: abortVars(c) }), { timeoutMs: 60_000 });
    expect(j.status, j.error).toBe('completed');
    const v = byName(j);
    expect(v['http-fault on myhero-app: HTTP 500 abort on 50% of requests']).toMatchObject({
      outcome: 'pass',
      reason: expect.stringMatching(/^\d+ of \d+ requests answered 500 \(\d+\.\d%\), 99\.9% interval \[[\d.]+%, [\d.]+%\] contains the expected 50\.0%$/),
    });
    expect(v['http-fault on myhero-app: gone after the rollback']?.outcome).toBe('pass');
    expect(v['failed votes fail fast, they do not hang']?.outcome).toBe('pass');
    expect(j.verdicts.filter((x) => x.outcome !== 'pass')).toEqual([]);
    // In the load figures: about half the votes failing while the fault is in force, none after.
    const { during, after } = errorRates(j);
    expect(during.length).toBeGreaterThanOrEqual(2);
    for (const r of during) expect(r).toBeGreaterThan(0.25);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const r of after) expect(r).toBe(0);
    expect(j.measurements.httpFaultRequests).toBeGreaterThanOrEqual(120);
    expect(c.service.stats.aborted).toBeGreaterThan(50);
    expect(await c.kube.listCustom({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' }, 'default')).toEqual([]);
  }, 60_000);

  it('app-abort fails its fault verdict when the load bypasses the mesh (negative control: the fault never reached it)', async () => {
    c = await startCluster({ objects: manifests(true), istio: true, mesh: false });
    await settle(c);
    const j = await run(c, loadGameday(APP_ABORT, { namespace: 'default', vars: { ...abortVars(c), FAULT_FOR: '3s', RECOVERY: '1s' } }), { timeoutMs: 60_000 });
    expect(j.status, j.error).toBe('completed');
    expect(byName(j)['http-fault on myhero-app: HTTP 500 abort on 50% of requests']).toMatchObject({
      outcome: 'fail',
      reason: expect.stringMatching(/^0 of \d+ requests answered 500 \(0\.0%\), 99\.9% interval \[0\.0%, [\d.]+%\] excludes the expected 50\.0%$/),
    });
    expect(j.exitCode).toBe(1);
    expect(c.service.stats.aborted).toBe(0);
  }, 60_000);

  it('ui-delay: page loads through the mesh take the delay during the fault and not after; the votes are not slowed', async () => {
    c = await startCluster({ objects: manifests(true), istio: true, ui: true });
    await settle(c);
    const vars = { MYHERO_APP_URL: c.service.url, MYHERO_UI_URL: `${c.ui!.url}/`, LOAD_RATE: '20', SETTLE: '1s', DELAY: '1s', FAULT_FOR: '4s', MESH_SETTLE: '300ms', RECOVERY: '1500ms', PAGE_RATE: '20' };
    const j = await run(c, loadGameday(UI_DELAY, { namespace: 'default', vars }), { timeoutMs: 60_000 });
    expect(j.status, j.error).toBe('completed');
    const v = byName(j);
    expect(v['http-fault on myhero-ui: 1 s delay on 100% of requests']).toMatchObject({
      outcome: 'pass',
      reason: expect.stringMatching(/^(\d+) of \1 requests took at least 0\.9 s \(100\.0%\)/),
    });
    expect(v['http-fault on myhero-ui: gone after the rollback']).toMatchObject({ outcome: 'pass', reason: expect.stringMatching(/^0 of \d+ requests took at least 0\.9 s/) });
    expect(v['votes are not slowed by the UI\'s delay']?.outcome).toBe('pass');
    expect(c.ui!.stats.delayed).toBeGreaterThan(40);
    expect(c.service.stats.delayed).toBe(0);
  }, 60_000);
});
