import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { addNodes, myheroDeployment, startApiServer, startService, stopAfterEach, type ApiServer, type KubeObject } from './fixtures/kube-apiserver/index.ts';

// The stand-in Service routes like kube-proxy: a connection stays on the pod it first
// reached; endpoint changes arrive after a propagation delay; a terminating pod serves
// through its preStop hook and finishes its requests on SIGTERM; a killed pod (grace 0)
// fails the requests in flight on its connections. These are the behaviours the readiness
// verdict depends on, so each one is shown here on its own, with a control.

const KEY = 'SecureApp';
const started = stopAfterEach();

/** 20 ms per cluster second: propagation 1 s = 20 ms, a 5 s preStop = 100 ms. */
async function start(opts: { preStop?: number; keepAlive?: boolean; serviceMs?: number; propagation?: number } = {}) {
  const api = started(await startApiServer({ msPerSecond: 20, timing: { endpointPropagation: opts.propagation ?? 1 } }));
  addNodes(api.cluster, ['pi-1', 'pi-2']);
  const d: KubeObject = myheroDeployment('app', { replicas: 2, cpuRequest: '100m' });
  if (opts.preStop) d.spec.template.spec.containers[0].lifecycle = { preStop: { exec: { command: ['sleep', String(opts.preStop)] } } };
  api.cluster.apply(d);
  const service = started(await startService(api.cluster, { namespace: 'default', selector: { app: 'myhero', tier: 'app' }, key: KEY, keepAlive: opts.keepAlive, serviceMs: opts.serviceMs }));
  const deadline = Date.now() + 10_000;
  while (api.cluster.endpoints('default', { tier: 'app' }).length < 2) {
    if (Date.now() > deadline) throw new Error('no endpoints');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { api, service };
}

/** GET /health on `agent`'s connections: the pod that answered, or the error. */
function get(url: string, agent: Agent): Promise<{ ok: boolean; connection?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request(`${url}/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, connection: res.headers.connection }));
    });
    req.on('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });
}

const podNames = (a: ApiServer) => a.cluster.store.list('pods', 'default').filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the stand-in Service routes like kube-proxy', () => {
  it('keeps a keep-alive connection on the pod it first reached; without keep-alive, each request is routed anew', async () => {
    const { api, service: s } = await start();
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 20; i++) expect((await get(s.url, one)).ok).toBe(true);
    expect(s.servedBy.size).toBe(1);
    one.destroy();
    await s.stop();
    const service = started(await startService(api.cluster, { namespace: 'default', selector: { tier: 'app' }, key: KEY, keepAlive: false }));
    const closing = new Agent({ keepAlive: true, maxSockets: 1 });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await get(service.url, closing));
    expect(answers.every((a) => a.ok && a.connection === 'close')).toBe(true);
    expect(service.servedBy.size).toBe(2);
    closing.destroy();
  });

  it('routes new connections to a deleted pod until the change propagates: with a preStop they are served, without one they fail', async () => {
    for (const preStop of [10, 0]) {
      // Propagation 5 s = 100 ms, preStop 10 s = 200 ms: room for a busy machine.
      const { api: a, service: s } = await start({ preStop, keepAlive: false, propagation: 5 });
      const [victim] = podNames(a);
      a.cluster.deletePod('default', victim!);
      const agent = new Agent({ keepAlive: false });
      const during = await Promise.all(Array.from({ length: 20 }, () => get(s.url, agent)));
      if (preStop) {
        expect(during.every((r) => r.ok)).toBe(true);
        expect(s.servedBy.get(victim!)).toBeGreaterThan(0); // routed to the deleted pod, which still served
      } else {
        expect(during.filter((r) => !r.ok).length).toBeGreaterThan(0); // routed to a pod that already stopped
      }
      await sleep(150);
      s.servedBy.clear();
      for (let i = 0; i < 20; i++) expect((await get(s.url, agent)).ok).toBe(true);
      expect(s.servedBy.has(victim!)).toBe(false);
      await s.stop();
      await a.stop();
    }
  });

  it('a pod killed with grace 0 fails the request in flight on its connection; on SIGTERM it finishes it', async () => {
    /** A request in flight on a kept-alive connection when its pod is deleted with `grace`. */
    const inFlightWhenDeleted = async (grace?: number) => {
      const { api: a, service: s } = await start({ serviceMs: 100 });
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      await get(s.url, agent);
      const [pinned] = [...s.servedBy.keys()];
      const inFlight = get(s.url, agent);
      await sleep(20);
      a.cluster.deletePod('default', pinned!, grace);
      const answer = await inFlight;
      agent.destroy();
      await s.stop();
      await a.stop();
      return answer;
    };
    // SIGTERM (no preStop, 30 s grace) lets it finish; grace 0 loses it.
    expect(await inFlightWhenDeleted()).toEqual({ ok: true, connection: 'keep-alive' });
    expect(await inFlightWhenDeleted(0)).toMatchObject({ ok: false, error: 'ECONNRESET' });
  });
});
