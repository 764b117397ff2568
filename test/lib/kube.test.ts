import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectKube, isNotFound, rolloutState } from '../../lib/kube.ts';
import { freePort } from '../../lib/net.ts';
import { addNodes, myheroDeployment, startApiServer, writeKubeconfig, type ApiServer } from '../fixtures/kube-apiserver/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'kube-test-'));
let api: ApiServer | undefined;
afterEach(async () => {
  await api?.stop();
  api = undefined;
});

async function cluster(opts: Parameters<typeof startApiServer>[0] = {}) {
  api = await startApiServer({ msPerSecond: 5, ...opts });
  addNodes(api.cluster, ['pi-1', 'pi-2', 'pi-3']);
  api.cluster.apply(myheroDeployment('app', { replicas: 2, cpuRequest: '100m', env: { myhero_app_mode: 'direct' } }));
  return api;
}

describe('lib/kube against the loopback API stand-in', () => {
  it('switches an env var with a rolling update, waits for the rollout, and restores it', async () => {
    const a = await cluster();
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'admin.yaml'), { server: a.url }) });
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    const before = await kube.listPods('default', { labelSelector: 'tier=app' });
    expect(before).toHaveLength(2);

    const previous = await kube.setDeploymentEnv('default', 'myhero-app', { myhero_app_mode: 'queue' });
    expect(previous).toEqual({ myhero_app_mode: 'direct' });
    const messages: string[] = [];
    const done = await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10, onProgress: (s) => messages.push(s.message) });
    expect(done.done).toBe(true);
    expect(messages.some((m) => /new replicas have been updated|old replicas are pending|updated replicas are available/.test(m))).toBe(true);

    const d = await kube.getDeployment('default', 'myhero-app');
    expect(d.status?.observedGeneration).toBe(d.metadata?.generation);
    expect(d.spec?.template.spec?.containers[0]?.env).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    const after = (await kube.listPods('default', { labelSelector: 'tier=app' })).filter((p) => !p.metadata?.deletionTimestamp);
    expect(after).toHaveLength(2);
    expect(after.map((p) => p.metadata?.name)).not.toEqual(expect.arrayContaining(before.map((p) => p.metadata?.name)));

    await kube.setDeploymentEnv('default', 'myhero-app', previous);
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 10 });
    expect((await kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.env).toEqual([{ name: 'myhero_app_mode', value: 'direct' }]);
  });

  it('reports a rollout that is still in progress as not done', async () => {
    const a = await cluster({ timing: { appStart: 1000 } });
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'slow.yaml'), { server: a.url }) });
    await expect(kube.waitForRollout('default', 'myhero-app', { timeoutMs: 300, pollMs: 20 })).rejects.toThrow(
      /rollout of deployment "myhero-app" did not complete within 0 s: \d+ of 2 updated replicas are available|new replicas/,
    );
    expect(rolloutState(await kube.getDeployment('default', 'myhero-app')).done).toBe(false);
  });

  it('turns a 403 into one line naming the verb and resource, and a 404 into not found', async () => {
    const a = await cluster({ tokens: { viewer: 'jane' } });
    a.cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'view', namespace: 'default' },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] }],
    });
    a.cluster.apply({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'view', namespace: 'default' },
      subjects: [{ kind: 'User', name: 'jane' }],
      roleRef: { kind: 'Role', name: 'view', apiGroup: 'rbac.authorization.k8s.io' },
    });
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'viewer.yaml'), { server: a.url, token: 'viewer' }) });
    expect((await kube.getDeployment('default', 'myhero-app')).metadata?.name).toBe('myhero-app');
    const err = await kube.setDeploymentEnv('default', 'myhero-app', { myhero_app_mode: 'queue' }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('forbidden: cannot patch deployments in namespace "default" (see chaos/rbac/)');
    expect((err as Error).message).not.toContain('\n');
    await expect(kube.listNodes()).rejects.toThrow('forbidden: cannot list nodes at cluster scope (see chaos/rbac/)');
    const missing = await kube.getDeployment('default', 'nope').catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect((missing as Error).message).toBe('not found: deployments "nope" in namespace "default"');
  });

  it('turns an unreachable API server into one line', async () => {
    const port = await freePort();
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'gone.yaml'), { server: `http://127.0.0.1:${port}` }) });
    const err = await kube.listPods('default').catch((e: unknown) => e);
    expect((err as Error).message).toBe(`cannot reach the Kubernetes API at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('refuses a missing kubeconfig or context with one line', () => {
    expect(() => connectKube({ kubeconfig: join(dir, 'absent.yaml') })).toThrow(/kubeconfig .*absent.yaml does not exist/);
    const file = writeKubeconfig(join(dir, 'ctx.yaml'), { server: 'http://127.0.0.1:1' });
    expect(() => connectKube({ kubeconfig: file, context: 'prod' })).toThrow('kubeconfig has no context "prod" (has: stand-in)');
  });

  it('evicts through the Eviction API and reports a PDB refusal (429)', async () => {
    const a = await cluster();
    a.cluster.apply({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'myhero-app', namespace: 'default' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'myhero', tier: 'app' } } },
    });
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'evict.yaml'), { server: a.url }) });
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    const [pod] = await kube.listPods('default', { labelSelector: 'tier=app' });
    const refused = await kube.evictPod('default', pod!.metadata!.name!);
    expect(refused).toEqual({ evicted: false, reason: 'The disruption budget myhero-app needs 2 healthy pods and has 2 currently' });
    await kube.scaleDeployment('default', 'myhero-app', 3);
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    expect(await kube.evictPod('default', pod!.metadata!.name!)).toEqual({ evicted: true });
  });
});
