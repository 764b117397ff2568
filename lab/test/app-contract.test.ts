import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { BODIES, DEFAULT_HEROES } from '../../lib/defaults.ts';
import { silentLogger } from '../../lib/log.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { CORS_HEADERS, OPTION_ERRORS } from '../api.ts';
import { startApp, type AppOptions, type AppServer } from '../app/server.ts';
import { startData, type DataServer } from '../data/server.ts';
import { appOptions as appOptionsFor } from './fixtures/app-options.ts';
import { call as callAt } from './fixtures/call.ts';

// Pins the twin's myhero-app API (direct mode) to the brief: routes, status codes, bodies, keys, the options cache.

let dir: string;
let data: DataServer;
let app: AppServer;
let now = 1_000_000;
const KEY = { key: 'DevApp' };
const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => callAt(app.url, method, path, headers, body);

const appOptions = (over: Partial<AppOptions>): AppOptions => appOptionsFor(data.url, { clock: () => now, ...over });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myhero-app-contract-'));
  data = await startData({ host: '127.0.0.1', port: 0, dataDir: dir, key: 'DevData', storageProfile: 'none', log: silentLogger });
  app = await startApp(appOptions({}));
});
afterAll(async () => {
  await app.close();
  await data.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('myhero-app contract', () => {
  it('GET /health → 200 "Service up." without a key (the probe path)', async () => {
    const r = await call('GET', '/health');
    expect([r.status, r.text]).toEqual([200, BODIES.health]);
  });

  it.each([
    ['POST', '/vote/Hulk'],
    ['GET', '/v2/results'],
    ['GET', '/options'],
    ['PUT', '/options'],
    ['POST', '/options'],
    ['DELETE', '/options/Hulk'],
  ])('%s %s: no key → 400, wrong key → 401, with the original bodies', async (method, path) => {
    const missing = await call(method, path);
    expect([missing.status, missing.body]).toEqual([400, BODIES.missingKey]);
    const wrong = await call(method, path, { key: 'DevData' });
    expect([wrong.status, wrong.body]).toEqual([401, BODIES.invalidKey]);
  });

  it('POST /vote/<hero> → 200 "vote submitted"; /v2/results lists [hero, votes, percent] by votes', async () => {
    for (const hero of ['Superman', 'Deadpool', 'Deadpool']) {
      const r = await call('POST', `/vote/${hero}`, KEY);
      expect([r.status, r.body]).toEqual([200, BODIES.voteSubmitted]);
    }
    const r = await call('GET', '/v2/results', KEY);
    expect(r.status).toBe(200);
    expect(r.body).toEqual([
      ['Deadpool', 2, 66.6],
      ['Superman', 1, 33.3],
    ]);
  });

  it('every answer carries the CORS headers, and the browser preflight is answered', async () => {
    const r = await call('GET', '/health');
    for (const [name, value] of Object.entries(CORS_HEADERS)) expect(r.headers.get(name)).toBe(value);
    expect((await call('OPTIONS', '/vote/Hulk')).status).toBe(200);
  });

  it('caches GET /options for 300 s: data changes show only after the cache expires', async () => {
    expect(await call('GET', '/options', KEY)).toMatchObject({ status: 200, body: { options: [...DEFAULT_HEROES] } });
    // Change the options behind the app's back, directly on data.
    await callAt(data.url, 'POST', '/options', { key: 'DevData' }, { options: ['Robin'] });
    now += 299_000;
    expect((await call('GET', '/options', KEY)).body).toEqual({ options: [...DEFAULT_HEROES] });
    now += 1_000;
    expect((await call('GET', '/options', KEY)).body).toEqual({ options: ['Robin'] });
  });

  it('PUT 201 and POST 201 refresh the cache; DELETE 202 does not (as in the original)', async () => {
    expect(await call('PUT', '/options', KEY, { option: 'Thor' })).toMatchObject({ status: 201, body: { options: ['Robin', 'Thor'] } });
    expect((await call('GET', '/options', KEY)).body).toEqual({ options: ['Robin', 'Thor'] });
    expect(await call('DELETE', '/options/Thor', KEY)).toMatchObject({ status: 202, body: { options: ['Robin'] } });
    expect((await call('GET', '/options', KEY)).body).toEqual({ options: ['Robin', 'Thor'] });
    expect(await call('POST', '/options', KEY, { options: ['Hulk', 'Thor'] })).toMatchObject({ status: 201, body: { options: ['Hulk', 'Thor'] } });
    expect((await call('GET', '/options', KEY)).body).toEqual({ options: ['Hulk', 'Thor'] });
  });

  it('malformed option changes get the original 400 bodies without reaching data', async () => {
    expect(await call('PUT', '/options', KEY, { nope: 1 })).toMatchObject({ status: 400, body: OPTION_ERRORS.put });
    expect(await call('POST', '/options', KEY, 'garbage')).toMatchObject({ status: 400, body: OPTION_ERRORS.post });
  });

  it('/metrics: RED per route template, votes accepted by mode, the mode gauge', async () => {
    const exp = parseExposition((await call('GET', '/metrics')).text);
    expect(valueOf(exp, TWIN.httpRequests, { route: '/vote/:hero', method: 'POST', code: '200', service: 'app' })).toBe(3);
    expect(valueOf(exp, `${TWIN.httpDuration}_count`, { service: 'app', route: '/v2/results', method: 'GET', code: '200' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(exp, TWIN.votesAccepted, { mode: 'direct', service: 'app' })).toBe(3);
    expect(valueOf(exp, TWIN.appMode, { mode: 'direct', service: 'app' })).toBe(1);
    expect(valueOf(exp, TWIN.appMode, { mode: 'queue', service: 'app' })).toBe(0);
  });
});

describe('myhero-app in direct mode when data does not answer', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let slowApp: AppServer;

  beforeAll(async () => {
    // Accepts connections and never answers: a hung data pod.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    slowApp = await startApp(appOptions({ dataUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 }));
  });
  afterAll(async () => {
    await slowApp.close();
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('answers 200 "vote submission failed" once its timeout passes, and counts the failure by reason', async () => {
    const started = Date.now();
    const r = await callAt(slowApp.url, 'POST', '/vote/Hulk', KEY);
    const elapsed = Date.now() - started;
    expect([r.status, r.body]).toEqual([200, BODIES.voteFailed]);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(300 + 1500);
    const metrics = parseExposition((await callAt(slowApp.url, 'GET', '/metrics')).text);
    expect(valueOf(metrics, TWIN.votesFailed, { mode: 'direct', reason: 'data_timeout', service: 'app' })).toBe(1);
  });

  it('answers 502 for results and options instead of hanging', async () => {
    expect((await callAt(slowApp.url, 'GET', '/v2/results', KEY)).status).toBe(502);
  });
});
