import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectKube, isNotFound, rolloutState } from '../kube.ts';
import { freePort } from '../net.ts';
import { addNodes, makePki, myheroDeployment, startApiServer, writeKubeconfig, type ApiServer } from '../../test/fixtures/kube-apiserver/index.ts';

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
    expect(previous).toEqual({ myhero_app_mode: { name: 'myhero_app_mode', value: 'direct' } });
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
    // Not one old pod left: the assertion above holds as soon as one of the two is replaced.
    for (const old of before) expect(after.map((p) => p.metadata?.name)).not.toContain(old.metadata?.name);

    await kube.restoreDeploymentEnv('default', 'myhero-app', previous);
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

  it('saves and restores an env var whole: a valueFrom reference is refused, or replaced and put back exactly', async () => {
    const a = await cluster();
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'valuefrom.yaml'), { server: a.url }) });
    const fromConfig = { name: 'myhero_app_mode', valueFrom: { configMapKeyRef: { name: 'myhero-config', key: 'mode' } } };
    await kube.patchDeployment('default', 'myhero-app', { spec: { template: { spec: { containers: [{ name: 'myhero-app', env: [{ ...fromConfig, value: null }] }] } } } });
    const envNow = async () => (await kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.env;
    expect(await envNow()).toEqual([fromConfig]);
    const patches = () => a.requests.filter((r) => r.method === 'PATCH').length;
    const before = patches();
    await expect(kube.setDeploymentEnv('default', 'myhero-app', { myhero_app_mode: 'queue' })).rejects.toThrow(
      'refusing to change myhero_app_mode of deployment default/myhero-app: it comes from ConfigMap myhero-config (valueFrom); pass --force',
    );
    expect(patches()).toBe(before);
    const previous = await kube.setDeploymentEnv('default', 'myhero-app', { myhero_app_mode: 'queue' }, { replaceValueFrom: true });
    expect(previous).toEqual({ myhero_app_mode: fromConfig });
    expect(await envNow()).toEqual([{ name: 'myhero_app_mode', value: 'queue' }]);
    await kube.restoreDeploymentEnv('default', 'myhero-app', previous);
    expect(await envNow()).toEqual([fromConfig]);
  });

  it('retries a write whose resourceVersion went stale meanwhile (409), so what it returns is what it replaced', async () => {
    const a = await cluster();
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'conflict.yaml'), { server: a.url }) });
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    a.cluster.stop(); // no status updates from the controllers: the only change is the racing writer's
    let raced = false;
    a.inject(({ method, path }) => {
      if (method === 'PATCH' && path.endsWith('/deployments/myhero-app') && !raced) {
        raced = true; // someone changes the variable between our read and our write
        a.cluster.apply({ ...myheroDeployment('app', { replicas: 2, cpuRequest: '100m', env: { myhero_app_mode: 'queue' } }) });
      }
      return undefined;
    });
    const previous = await kube.setDeploymentEnv('default', 'myhero-app', { myhero_app_mode: 'direct' });
    expect(a.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([409, 200]);
    expect(previous).toEqual({ myhero_app_mode: { name: 'myhero_app_mode', value: 'queue' } });
  });

  it('a write takes an abort signal: a call the API never answers is given up', async () => {
    const a = await cluster();
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'hang.yaml'), { server: a.url }) });
    a.inject(({ method }) => (method === 'PATCH' ? 'hang' : undefined));
    const started = Date.now();
    await expect(kube.setUnschedulable('pi-1', true, AbortSignal.timeout(200))).rejects.toThrow(
      `no answer from the Kubernetes API at ${a.url} to patch nodes at cluster scope before the call was given up (time limit or interrupt)`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('the API stand-in is as strict as an API server where the suite depends on it', () => {
  /** A raw request to the stand-in, as a client that does not check anything would send it. */
  const call = async (a: ApiServer, method: string, path: string, body?: unknown, type = 'application/strategic-merge-patch+json') => {
    const res = await fetch(`${a.url}${path}`, { method, headers: { 'content-type': type }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { kind?: string; reason?: string; message?: string; details?: { causes?: { field: string; message: string }[] } } };
  };
  const DEPLOYMENT = '/apis/apps/v1/namespaces/default/deployments/myhero-app';

  it('422 with the Status body and causes for an invalid object: value and valueFrom together, a fractional integer', async () => {
    const a = await cluster();
    const both = await call(a, 'PATCH', DEPLOYMENT, {
      spec: { template: { spec: { containers: [{ name: 'myhero-app', env: [{ name: 'myhero_app_mode', value: 'queue', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }] }] } } },
    });
    expect(both.status).toBe(422);
    expect(both.body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      message: 'Deployment.apps "myhero-app" is invalid: spec.template.spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
      details: { name: 'myhero-app', group: 'apps', kind: 'Deployment', causes: [{ reason: 'FieldValueInvalid', field: 'spec.template.spec.containers[0].env[0].valueFrom' }] },
    });
    const fraction = await call(a, 'PATCH', DEPLOYMENT, { spec: { replicas: 1.5 } });
    expect(fraction.status).toBe(422);
    expect(fraction.body.details?.causes).toEqual([{ reason: 'FieldValueTypeInvalid', field: 'spec.replicas', message: 'Invalid value: must be integer' }]);
    // The valid patch next to them goes through, and the rejected ones changed nothing.
    expect((await call(a, 'PATCH', DEPLOYMENT, { spec: { replicas: 3 } })).status).toBe(200);
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'strict.yaml'), { server: a.url }) });
    const err = await kube.patchDeployment('default', 'myhero-app', { spec: { replicas: 2.5 } }).catch((e: unknown) => (e as Error).message);
    expect(err).toBe('Kubernetes API 422 on patch deployments in namespace "default": Deployment.apps "myhero-app" is invalid: spec.replicas: Invalid value: must be integer');
  });

  it('409 on a stale resourceVersion, 400 on a fractional grace period, 404 when evicting a pod that is gone', async () => {
    const a = await cluster();
    const stale = await call(a, 'PATCH', DEPLOYMENT, { metadata: { resourceVersion: '1' }, spec: { replicas: 3 } });
    expect(stale.status).toBe(409);
    expect(stale.body.message).toBe('Operation cannot be fulfilled on deployments.apps "myhero-app": the object has been modified; please apply your changes to the latest version and try again');
    const pod = (await call(a, 'GET', '/api/v1/namespaces/default/pods')).body as unknown as { items: { metadata: { name: string } }[] };
    const name = pod.items[0]!.metadata.name;
    expect((await call(a, 'DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0.5`)).status).toBe(400);
    expect((await call(a, 'POST', `/api/v1/namespaces/default/pods/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name }, deleteOptions: { gracePeriodSeconds: 0.5 } }, 'application/json')).status).toBe(400);
    const gone = await call(a, 'POST', '/api/v1/namespaces/default/pods/nope/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'nope' } }, 'application/json');
    expect(gone).toMatchObject({ status: 404, body: { reason: 'NotFound', message: 'pods "nope" not found' } });
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'gone.yaml'), { server: a.url }) });
    expect(await kube.evictPod('default', 'nope')).toEqual({ evicted: true, gone: true });
  });

  it('watches start with the current objects, resume from a resourceVersion, and end with 410 Gone once it is compacted', async () => {
    const a = await cluster();
    const events = async (query: string) => {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 300);
      const res = await fetch(`${a.url}/api/v1/namespaces/default/pods?watch=true&labelSelector=tier%3Dapp${query}`, { signal: ctl.signal });
      let text = '';
      try {
        for await (const chunk of res.body!) text += Buffer.from(chunk).toString();
      } catch {
        /* aborted: the stream stays open, as a watch does */
      }
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; object: { kind?: string; code?: number; reason?: string; metadata?: { name?: string; resourceVersion?: string } } });
    };
    const kube = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'watch.yaml'), { server: a.url }) });
    await kube.waitForRollout('default', 'myhero-app', { timeoutMs: 10_000, pollMs: 20 });
    a.cluster.stop(); // no controller changes while we look
    const initial = await events('');
    expect(initial.map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
    const rv = a.cluster.store.revision;
    a.cluster.apply({ ...myheroDeployment('app', { replicas: 2, cpuRequest: '100m' }), metadata: { name: 'myhero-app', namespace: 'default', labels: { app: 'myhero', tier: 'app', touched: 'yes' } } });
    a.cluster.deletePod('default', initial[0]!.object.metadata!.name!, 0);
    expect((await events(`&resourceVersion=${rv}`)).map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual([`DELETED ${initial[0]!.object.metadata!.name}`]);
    a.cluster.store.compact();
    expect(await events(`&resourceVersion=${rv}`)).toEqual([
      { type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired', message: `too old resource version: ${rv} (${a.cluster.store.revision})` }) },
    ]);
  });

  it('authenticates bearer tokens and client certificates over TLS, as k3s writes them into its kubeconfig', async () => {
    const pki = makePki();
    api = await startApiServer({ msPerSecond: 5, tls: { ...pki.server, ca: pki.ca }, tokens: { 'admin-token': 'admin' }, admins: ['admin'] });
    addNodes(api.cluster, ['pi-1']);
    const admin = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'k3s.yaml'), { server: api.url, ca: pki.ca, clientCert: pki.client('system:admin', ['system:masters']) }) });
    expect((await admin.listNodes()).map((n) => n.metadata?.name)).toEqual(['pi-1']);
    const token = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'token.yaml'), { server: api.url, ca: pki.ca, token: 'admin-token' }) });
    expect((await token.getNode('pi-1')).metadata?.name).toBe('pi-1');
    // A certificate of a user without a binding is authenticated, then forbidden; no credentials at all is 401.
    const jane = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'jane.yaml'), { server: api.url, ca: pki.ca, clientCert: pki.client('jane') }) });
    await expect(jane.listNodes()).rejects.toThrow('forbidden: cannot list nodes at cluster scope (see chaos/rbac/)');
    const nobody = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'nobody.yaml'), { server: api.url, ca: pki.ca }) });
    await expect(nobody.listNodes()).rejects.toThrow(`unauthorized: the Kubernetes API at ${api.url} rejected the credentials`);
    // A certificate from another CA does not authenticate.
    const other = makePki();
    const forged = connectKube({ kubeconfig: writeKubeconfig(join(dir, 'forged.yaml'), { server: api.url, ca: pki.ca, clientCert: other.client('system:admin', ['system:masters']) }) });
    await expect(forged.listNodes()).rejects.toThrow('unauthorized');
  });
});
