import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runHook } from '../steps/node-kill.ts';
import { describePlan, type Plan } from '../plan.ts';
import { ROOT, eventually, manifests, run, runEnv, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';
import { runPlan } from '../run.ts';
import { myheroDeployment } from '../../test/fixtures/kube-apiserver/index.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const hook = (c: TestCluster, action: 'stop' | 'start') => `node ${join(ROOT, 'test/fixtures/kube-apiserver/node-hook.mjs')} ${c.api.url} ${action} {node}`;

const killPlan = (c: TestCluster, node: string, exec = hook(c, 'stop')): Plan => ({
  title: 'node-kill',
  command: 'node-kill',
  namespace: 'default',
  observe: { deployment: 'myhero-app' },
  steadyState: [],
  steadyStateRecoveryMs: 0,
  method: [
    {
      kind: 'node-kill',
      spec: { node, exec, restore: hook(c, 'start'), selector: 'app=myhero', notReadyTimeoutMs: 10_000, recoverTimeoutMs: 20_000, hookTimeoutMs: 10_000 },
    },
  ],
  probes: [],
});

describe('node-kill against the stand-in', () => {
  it('measures time to NotReady, to pods Ready elsewhere and to service whole, then restores the node', async () => {
    // 10 ms per cluster second: node-monitor grace 40 s = 0.4 s, unreachable toleration 300 s = 3 s.
    c = await startCluster({ objects: manifests(true), api: { msPerSecond: 10 } });
    await settle(c);
    const victim = (await c.kube.listPods('default', { labelSelector: 'tier=app' }))[0]!.spec!.nodeName!;
    const j = await run(c, killPlan(c, victim), { timeoutMs: 40_000 });
    expect(j.status, j.error).toBe('completed');
    const { nodeNotReadyMs, podsRescheduledMs, serviceWholeMs } = j.measurements as Record<string, number>;
    // Kubernetes only notices after the node-monitor grace period; pods move after the unreachable toleration.
    expect(nodeNotReadyMs).toBeGreaterThanOrEqual(40 * 10);
    expect(podsRescheduledMs).toBeGreaterThanOrEqual(nodeNotReadyMs! + 300 * 10 * 0.9);
    expect(serviceWholeMs).toBeGreaterThanOrEqual(podsRescheduledMs!);
    expect(j.events.map((e) => e.reason)).toEqual(expect.arrayContaining(['NodeNotReady', 'TaintManagerEviction']));
    expect(j.actions.map((a) => a.name)).toEqual(['node-kill', 'node-not-ready', 'pods-rescheduled', 'service-whole']);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: `restore node ${victim}`, ok: true })]);
    const node = await c.kube.getNode(victim);
    expect(node.status?.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
  }, 60_000);

  it('a failing hook fails the run and the restore hook still runs', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const j = await run(c, killPlan(c, 'pi-2', 'echo "ssh: connect to host {node}: No route to host" >&2; exit 255'));
    expect(j.status).toBe('failed');
    expect(j.error).toBe('node-kill hook for pi-2 exited 255: ssh: connect to host pi-2: No route to host');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore node pi-2', ok: true })]);
  });

  it('a hook that overruns its time limit is stopped with everything it started (its process group)', async () => {
    const pidFile = join(mkdtempSync(join(tmpdir(), 'hook-')), 'pid');
    // The shell starts a child and waits for it: killing only `sh` would leave the sleep running.
    const r = await runHook(`sleep 30 & echo $! > ${pidFile}; wait`, 'pi-1', { timeoutMs: 300 });
    expect(r.code).toBeNull();
    expect(r.output).toBe('hook timed out after 0.30 s');
    expect(r.ms).toBeLessThan(5000);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => {
      try {
        process.kill(child, 0);
        return false;
      } catch {
        return true;
      }
    }, 3000, `the hook's child ${child} to be gone`);
  });

  it('redacts token-looking values of hook commands in the plan, journal and dry-run lines', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const secret = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbHVnIn0.Sig123abcDEF';
    const plan = killPlan(c, 'pi-2', `curl -H 'Authorization: Bearer ${secret}' https://plug.local/off?n={node}`);
    const env = runEnv(c, { dryRun: true });
    const j = await runPlan(plan, env);
    const everything = JSON.stringify(j) + env.lines.join('\n') + describePlan(plan).join('\n');
    expect(everything).not.toContain(secret);
    expect(env.lines).toContain("would run: curl -H 'Authorization: Bearer [redacted]' https://plug.local/off?n=pi-2");
  });

  it('warns before taking down the node that runs the only replica of a cluster service (k3s: coredns)', async () => {
    c = await startCluster({ objects: manifests(true) });
    const coredns = myheroDeployment('dns', { namespace: 'kube-system', replicas: 1 });
    coredns.metadata.name = 'coredns';
    c.api.cluster.apply(coredns);
    await c.kube.waitForRollout('kube-system', 'coredns', { timeoutMs: 10_000, pollMs: 10 });
    const host = (await c.kube.listPods('kube-system'))[0]!.spec!.nodeName!;
    const other = ['pi-1', 'pi-2', 'pi-3'].find((n) => n !== host)!;
    const dry = async (node: string) => {
      const env = runEnv(c, { dryRun: true });
      await runPlan(killPlan(c, node), env);
      return env.lines.filter((l) => l.startsWith('warning:'));
    };
    expect(await dry(host)).toEqual([
      `warning: node ${host} runs the only replica of kube-system/coredns: losing it stops DNS for every pod (the app cannot resolve myhero-data or myhero-mosca) until it is rescheduled elsewhere`,
    ]);
    expect(await dry(other)).toEqual([]);
  });
});
