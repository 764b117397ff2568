import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectKube } from '../../lib/kube.ts';
import { silentLogger } from '../../lib/log.ts';
import { runCli, startCli } from '../../test/fixtures/cli.ts';
import { addNodes, myheroDeployment, startApiServer, startService, stopAfterEach, writeKubeconfig, type ApiServerOptions } from '../../test/fixtures/kube-apiserver/index.ts';
import { runCompare } from '../compare.ts';
import { prepareK8sModes, type K8sModeOptions } from '../k8s-mode.ts';

// `compare --k8s` against the loopback Kubernetes API stand-in: the Deployment's
// myhero_app_mode is switched with a rollout and restored afterwards, exactly as it
// was (valueFrom included) — after a normal run, a failure, and Ctrl-C — behind the
// chaos rails. The load goes to the stand-in's Service.

const KEY = 'SecureApp';
const dir = mkdtempSync(join(tmpdir(), 'loadtest-k8s-'));
const started = stopAfterEach();

async function cluster(env: Record<string, string>, opts: ApiServerOptions = {}) {
  const api = started(await startApiServer({ msPerSecond: 5, ...opts }));
  addNodes(api.cluster, ['pi-1', 'pi-2']);
  api.cluster.apply(myheroDeployment('app', { replicas: 1, env }));
  const service = started(await startService(api.cluster, { namespace: 'default', selector: { app: 'myhero', tier: 'app' }, key: KEY }));
  const kubeconfig = writeKubeconfig(join(dir, `kc-${Date.now()}.yaml`), { server: api.url });
  const kube = connectKube({ kubeconfig });
  await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
  const envNow = async () => (await kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.env ?? [];
  // Accepted patches (a 409 on a stale resourceVersion is retried and not counted).
  const patches = () => api.requests.filter((r) => r.method === 'PATCH' && r.resource === 'deployments' && r.status === 200).length;
  return { api, service, kubeconfig, envNow, patches, target: service.url, kube };
}

const modes = async (c: { target: string; kubeconfig: string }, over: Partial<K8sModeOptions> = {}) =>
  (
    await prepareK8sModes({
      target: c.target,
      namespace: 'default',
      deployment: 'myhero-app',
      kubeconfig: c.kubeconfig,
      rolloutTimeoutMs: 20_000,
      namespaceRules: { allowed: ['default'], allowSystem: false },
      force: false,
      settleMs: 100,
      log: silentLogger,
      ...over,
    })
  ).provider();

const plan = { key: KEY, model: { kind: 'closed' as const, voters: 2 }, durationMs: 600, reconcile: { drainTimeoutMs: 1000, stableMs: 200 } };

describe('compare --k8s', () => {
  it('switches the Deployment to queue mode for the queue runs and restores the original value', async () => {
    const c = await cluster({ myhero_app_mode: 'direct' });
    const provider = await modes(c);
    const { result, runs } = await runCompare(plan, provider, { trials: 2 });
    expect(runs.map((r) => r.mode)).toEqual(['direct', 'queue', 'queue', 'direct']);
    expect(runs.every((r) => r.result.lost === 0 && r.result.accepted > 0)).toBe(true);
    expect(result.conditions).toMatchObject({ source: 'Kubernetes Deployment default/myhero-app', originalMode: 'direct', context: 'stand-in' });
    // To queue before trial 1's queue run, back to direct before trial 2's direct run: already the original.
    expect(c.patches()).toBe(2);
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'direct' }]);
  });

  it('removes the variable again when it was not set, and restores after a failed rollout', async () => {
    const c = await cluster({});
    const provider = await modes(c);
    await provider.acquire('queue');
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    await provider.close(false);
    expect(await c.envNow()).toEqual([]);

    await c.service.stop();
    await c.api.stop();
    // New pods never become ready: the switch to direct (trial 1 runs direct first) fails, and the restore follows.
    const stuck = await cluster({ myhero_app_mode: 'queue' });
    stuck.api.cluster.setAppHealthy('default', 'myhero-app', false);
    const p2 = await modes(stuck, { rolloutTimeoutMs: 300 });
    await expect(runCompare(plan, p2, { trials: 1 })).rejects.toThrow(/rollout of deployment "myhero-app" did not complete/);
    expect(await stuck.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    expect(stuck.patches()).toBe(2);
  });

  it('restores the Deployment on Ctrl-C of the CLI and writes a partial report', async () => {
    const c = await cluster({ myhero_app_mode: 'queue' });
    const out = join(dir, 'interrupted');
    const compare = startCli(['loadtest', 'compare', '--k8s', '--target', c.target, '--kubeconfig', c.kubeconfig, '--voters', '2', '--duration', '60s', '--metrics-port', '0', '--out', out, '--json'], {
      env: { MYHERO_APP_KEY: KEY },
      timeoutMs: 90_000,
    });
    // Trial 1 runs direct first: wait until the switch to direct has rolled out and load flows.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(JSON.stringify(await c.envNow()).includes('"direct"') && c.service.stats.served > 50)) await new Promise((r) => setTimeout(r, 100));
    compare.child.kill('SIGINT');
    const r = await compare.result;
    expect(r.code).toBe(130);
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    expect(JSON.parse(r.stdout)).toMatchObject({ partial: true, verdict: expect.stringMatching(/^PARTIAL/) });
  }, 90_000);

  it('refuses a myhero_app_mode that comes from a ConfigMap unless forced, and then restores the reference exactly', async () => {
    const c = await cluster({});
    const fromConfig = { name: 'myhero_app_mode', valueFrom: { configMapKeyRef: { name: 'myhero-config', key: 'mode' } } };
    await c.kube.patchDeployment('default', 'myhero-app', { spec: { template: { spec: { containers: [{ name: 'myhero-app', env: [fromConfig] }] } } } });
    await c.kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    const before = c.patches();
    await expect(modes(c)).rejects.toMatchObject({
      exitCode: 2,
      message:
        'refusing to switch myhero_app_mode of deployment default/myhero-app: it comes from ConfigMap myhero-config key mode (valueFrom); pass --force to set literal values for the run (the reference is restored afterwards)',
    });
    expect(c.patches()).toBe(before);
    const forced = await modes(c, { force: true });
    await forced.acquire('queue');
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    await forced.close(false);
    // Not `$patch: delete` and not an empty value: the reference itself is back.
    expect(await c.envNow()).toEqual([fromConfig]);
  });

  it('records a switch only once the API accepted it: a refused patch leaves nothing to restore', async () => {
    const c = await cluster({ myhero_app_mode: 'direct' });
    const provider = await modes(c);
    const refuse = c.api.inject(({ method }) => (method === 'PATCH' ? { status: 403, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', message: 'forbidden', code: 403 } } : undefined));
    await expect(provider.acquire('queue')).rejects.toThrow('forbidden: cannot patch deployments in namespace "default"');
    refuse();
    const before = c.patches();
    await provider.close(false);
    expect(c.patches()).toBe(before);
    expect(await c.envNow()).toEqual([{ name: 'myhero_app_mode', value: 'direct' }]);
  });

  it('refuses a namespace off the allowlist, or a system namespace, before any call', async () => {
    const c = await cluster({ myhero_app_mode: 'direct' });
    const before = c.api.requests.length;
    await expect(modes(c, { namespace: 'prod' })).rejects.toThrow('namespace "prod" is not in the allowlist (default); add it with --allow-namespaces');
    await expect(modes(c, { namespace: 'kube-system', namespaceRules: { allowed: ['kube-system'], allowSystem: false } })).rejects.toThrow('refusing to act in system namespace "kube-system"');
    expect(c.api.requests.length).toBe(before);
  });

  it('the CLI: --dry-run prints the context, the server and what would change, and changes nothing', async () => {
    const c = await cluster({ myhero_app_mode: 'direct' });
    const writes = () => c.api.requests.filter((r) => r.method !== 'GET').length;
    const before = writes();
    const out = await runCli(['loadtest', 'compare', '--k8s', '--target', c.target, '--kubeconfig', c.kubeconfig, '--dry-run'], { env: { MYHERO_APP_KEY: KEY } });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout.split('\n').slice(0, 3)).toEqual([
      `Kubernetes: context "stand-in", server ${c.api.url}, namespace default`,
      'will set myhero_app_mode to direct and to queue on deployment myhero-app (container myhero-app; now direct), each a rollout,',
      `and put it back afterwards (also on failure or Ctrl-C); by hand: kubectl --kubeconfig ${c.kubeconfig} --context stand-in -n default patch deployment myhero-app --type strategic -p '{"spec":{"template":{"spec":{"containers":[{"name":"myhero-app","env":[{"name":"myhero_app_mode","value":"direct","valueFrom":null}]}]}}}}'`,
    ]);
    expect(writes()).toBe(before);
    expect(c.service.stats.served).toBe(0);
  }, 60_000);
});
