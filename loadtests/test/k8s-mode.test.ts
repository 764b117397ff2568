import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connectKube } from '../../lib/kube.ts';
import { silentLogger } from '../../lib/log.ts';
import { addNodes, myheroDeployment, startApiServer, startService, writeKubeconfig, type ApiServer, type ApiServerOptions, type ServiceStandIn } from '../../test/fixtures/kube-apiserver/index.ts';
import { runCompare } from '../compare.ts';
import { k8sModes } from '../k8s-mode.ts';

// `compare --k8s` against the loopback Kubernetes API stand-in: the Deployment's
// myhero_app_mode is switched with a rollout and restored afterwards — after a
// normal run, a failure, and Ctrl-C. The load goes to the stand-in's Service.

const KEY = 'SecureApp';
const dir = mkdtempSync(join(tmpdir(), 'loadtest-k8s-'));
let api: ApiServer | undefined;
let service: ServiceStandIn | undefined;
afterEach(async () => {
  await service?.stop();
  await api?.stop();
  api = service = undefined;
});

async function cluster(env: Record<string, string>, opts: ApiServerOptions = {}) {
  api = await startApiServer({ msPerSecond: 5, ...opts });
  addNodes(api.cluster, ['pi-1', 'pi-2']);
  api.cluster.apply(myheroDeployment('app', { replicas: 1, env }));
  service = await startService(api.cluster, { namespace: 'default', selector: { app: 'myhero', tier: 'app' }, key: KEY });
  const kubeconfig = writeKubeconfig(join(dir, `kc-${Date.now()}.yaml`), { server: api.url });
  const kube = connectKube({ kubeconfig });
  await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
  const envNow = async () => (await kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.env ?? [];
  const patches = () => api!.requests.filter((r) => r.method === 'PATCH' && r.resource === 'deployments').length;
  return { kubeconfig, envNow, patches, target: service.url };
}

const plan = { key: KEY, model: { kind: 'closed' as const, voters: 2 }, durationMs: 600, reconcile: { drainTimeoutMs: 1000, stableMs: 200 } };

describe('compare --k8s', () => {
  it('switches the Deployment to queue mode for the queue runs and restores the original value', async () => {
    const c = await cluster({ myhero_app_mode: 'direct' });
    const provider = await k8sModes({ target: c.target, namespace: 'default', deployment: 'myhero-app', kubeconfig: c.kubeconfig, rolloutTimeoutMs: 20_000, log: silentLogger });
    const { result, runs } = await runCompare(plan, provider, { trials: 2 });
    expect(runs.map((r) => r.mode)).toEqual(['direct', 'queue', 'queue', 'direct']);
    expect(runs.every((r) => r.result.lost === 0 && r.result.accepted > 0)).toBe(true);
    expect(result.conditions).toMatchObject({ source: 'Kubernetes Deployment default/myhero-app', originalMode: 'direct' });
    // To queue before trial 1's queue run, back to direct before trial 2's direct run: already the original.
    expect(c.patches()).toBe(2);
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'direct' }]);
  });

  it('removes the variable again when it was not set, and restores after a failed rollout', async () => {
    const c = await cluster({});
    const provider = await k8sModes({ target: c.target, namespace: 'default', deployment: 'myhero-app', kubeconfig: c.kubeconfig, rolloutTimeoutMs: 20_000, log: silentLogger });
    await provider.acquire('queue');
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    await provider.close(false);
    expect(await c.envNow()).toEqual([]);

    await service!.stop();
    await api!.stop();
    // New pods never become ready: the switch to direct (trial 1 runs direct first) fails, and the restore follows.
    const stuck = await cluster({ myhero_app_mode: 'queue' });
    api!.cluster.setAppHealthy('default', 'myhero-app', false);
    const p2 = await k8sModes({ target: stuck.target, namespace: 'default', deployment: 'myhero-app', kubeconfig: stuck.kubeconfig, rolloutTimeoutMs: 300, log: silentLogger });
    await expect(runCompare(plan, p2, { trials: 1 })).rejects.toThrow(/rollout of deployment "myhero-app" did not complete/);
    expect(await stuck.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    expect(stuck.patches()).toBe(2);
  });

  it('restores the Deployment on Ctrl-C of the CLI and writes a partial report', async () => {
    const c = await cluster({ myhero_app_mode: 'queue' });
    const bin = fileURLToPath(new URL('../../bin/myhero-ops', import.meta.url));
    const out = join(dir, 'interrupted');
    const child = spawn(
      process.execPath,
      [bin, 'loadtest', 'compare', '--k8s', '--target', c.target, '--kubeconfig', c.kubeconfig, '--voters', '2', '--duration', '60s', '--metrics-port', '0', '--out', out, '--json'],
      { env: { ...process.env, MYHERO_APP_KEY: KEY, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // Trial 1 runs direct first: wait until the switch to direct has rolled out and load flows.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(JSON.stringify(await c.envNow()).includes('"direct"') && service!.stats.served > 50)) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    expect(JSON.parse(stdout)).toMatchObject({ partial: true, verdict: expect.stringMatching(/^PARTIAL/) });
  }, 90_000);
});
