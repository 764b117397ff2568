import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { silentLogger } from '../../lib/log.ts';
import { startApp, type AppOptions, type AppServer } from '../app/server.ts';
import { startBroker, type Broker } from '../broker.ts';
import { startData, type DataServer } from '../data/server.ts';
import { startErnst, type Ernst } from '../ernst/consumer.ts';
import { appOptions as appOptionsFor } from './fixtures/app-options.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { castVotes, recorded, waitForRecorded } from './fixtures/votes.ts';

// The twin's `original` flavour behaves on the wire like the original Flask
// services (the brief's observations): Connection: close, Flask's pretty JSON,
// data_timestamp headers, full-float percentages, Werkzeug's HTML error pages,
// and in queue mode the original's retained QoS 0 votes that a consumer restart loses.

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'myhero-original-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const startOriginalData = (dataDir = tmp(), port = 0) => startData({ host: '127.0.0.1', port, dataDir, key: 'DevData', storageProfile: 'none', flavour: 'original', log: silentLogger });
const appOptions = (data: Pick<DataServer, 'url'>, o: Partial<AppOptions> = {}): AppOptions => appOptionsFor(data.url, { flavour: 'original', ...o });

/** One raw HTTP/1.1 request: status, headers and body exactly as sent, and whether the server closed the socket. */
function raw(url: string, method: string, path: string, headers: Record<string, string> = { key: 'DevApp' }) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; closed: boolean }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, closed: !req.reusedSocket && res.headers.connection === 'close' }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('original flavour on the wire (direct mode)', () => {
  let data: DataServer;
  let app: AppServer;
  beforeAll(async () => {
    data = await startOriginalData();
    app = await startApp(appOptions(data));
  });
  afterAll(async () => {
    await app?.close();
    await data?.close();
  });

  it('closes every connection and prints JSON as Flask does: indent 4, sorted keys, a final newline', async () => {
    const v = await raw(app.url, 'POST', '/vote/Deadpool');
    expect(v).toMatchObject({ status: 200, body: '{\n    "result": "vote submitted"\n}\n', closed: true });
    expect(v.headers.connection).toBe('close');
    for (const [method, path] of [
      ['GET', '/health'],
      ['GET', '/options'],
      ['GET', '/hero_list'],
    ]) expect((await raw(app.url, method!, path!)).headers.connection, path).toBe('close');
    expect((await raw(data.url, 'GET', '/hero_list')).headers.connection).toBe('close');
    const keyError = await raw(app.url, 'GET', '/options', {});
    expect(keyError.body).toBe('{\n    "Error": "Method requires authorization key."\n}\n');
  });

  it('/v2/results: full-float percentages and a data_timestamp header, on data and through the app; /hero_list served by the app', async () => {
    await raw(app.url, 'POST', '/vote/Deadpool');
    await raw(app.url, 'POST', '/vote/Superman');
    const r = await raw(app.url, 'GET', '/v2/results');
    const rows = JSON.parse(r.body) as [string, number, number][];
    expect(rows[0]).toEqual(['Deadpool', 2, 66.66666666666666]);
    expect(rows[1]).toEqual(['Superman', 1, 33.33333333333333]);
    expect(r.body).toContain('\n        "Deadpool",\n');
    expect(r.headers.data_timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect((await raw(data.url, 'GET', '/v2/results')).headers.data_timestamp).toBeDefined();
    expect((await raw(app.url, 'GET', '/options')).headers.data_timestamp).toBeDefined();
    const heroes = await raw(app.url, 'GET', '/hero_list', {});
    expect(heroes.status).toBe(200);
    expect((JSON.parse(heroes.body) as { heros: string[] }).heros).toContain('Deadpool');
  });

  it("answers an unknown route or a wrong method with Werkzeug's HTML pages", async () => {
    const missing = await raw(app.url, 'GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(missing.body).toMatch(/^<!doctype html>\n<html lang=en>\n<title>404 Not Found<\/title>/);
    const method = await raw(data.url, 'DELETE', '/v2/results');
    expect(method.status).toBe(405);
    expect(method.body).toContain('<title>405 Method Not Allowed</title>');
  });
});

describe('original flavour with its data tier down', () => {
  it('answers votes, uncached /options and /v2/results with HTTP 500 and an HTML page (not 200 "vote submission failed", not 502)', async () => {
    const dir = tmp();
    const data = await startOriginalData(dir);
    const port = Number(new URL(data.url).port);
    await data.close();
    const app = await startApp(appOptions({ url: `http://127.0.0.1:${port}` }));
    try {
      for (const [method, path] of [
        ['POST', '/vote/Hulk'],
        ['GET', '/options'],
        ['GET', '/v2/results'],
      ]) {
        const r = await raw(app.url, method!, path!);
        expect([r.status, r.headers['content-type']], path).toEqual([500, 'text/html; charset=utf-8']);
        expect(r.body).toContain('<title>500 Internal Server Error</title>');
      }
      const metrics = parseExposition(await (await fetch(`${app.url}/metrics`)).text());
      expect(valueOf(metrics, TWIN.votesFailed, { mode: 'direct', reason: 'data_error', service: 'app' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

describe('original flavour in queue mode: QoS 0, retained votes, one broker connection per vote', () => {
  let broker: Broker;
  let data: DataServer;
  let app: AppServer;
  let ernst: Ernst | undefined;
  const startOriginalErnst = () =>
    startErnst({ mqttUrl: broker.url, dataUrl: data.url, dataKey: 'DevData', clientId: 'myhero-ernst', metricsHost: '127.0.0.1', metricsPort: 0, timeoutMs: 2000, retryMaxMs: 1000, flavour: 'original', log: silentLogger });
  beforeAll(async () => {
    broker = await startBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
    data = await startOriginalData();
    app = await startApp(appOptions(data, { mode: 'queue', mqttUrl: broker.url }));
  });
  afterEach(async () => {
    await ernst?.close();
    ernst = undefined;
  });
  afterAll(async () => {
    await app?.close();
    await data?.close();
    await broker?.close();
  });

  it('with ernst connected, every vote is recorded; ernst says it is connected', async () => {
    ernst = await startOriginalErnst();
    const before = await recorded(data.url);
    expect(await castVotes(app.url, 60, { concurrency: 6 })).toBe(60);
    expect(await waitForRecorded(data.url, before + 60)).toBe(before + 60);
    const m = parseExposition(await (await fetch(ernst.metricsUrl)).text());
    expect(valueOf(m, TWIN.ernstConnected, { service: 'ernst' })).toBe(1);
    expect(valueOf(m, TWIN.votesProcessed, { service: 'ernst' })).toBe(60);
  });

  it('votes published while ernst is away are lost except the last retained one per topic', async () => {
    const before = await recorded(data.url);
    // No consumer: 60 votes spread over the ten topics <host>-0..9.
    expect(await castVotes(app.url, 60, { concurrency: 6 })).toBe(60);
    ernst = await startOriginalErnst();
    await sleep(1000);
    const got = (await recorded(data.url)) - before;
    // The retained messages: at most one per topic.
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThanOrEqual(10);
    // ... and they were cleared: a new consumer gets nothing more.
    await ernst.close();
    ernst = await startOriginalErnst();
    await sleep(500);
    expect((await recorded(data.url)) - before).toBe(got);
  });

  it('a broker that does not answer makes the vote an HTTP 500 with an HTML page', async () => {
    const stopped = await startBroker({ host: '127.0.0.1', port: 0, log: silentLogger });
    await stopped.close();
    const orphan = await startApp(appOptions(data, { mode: 'queue', mqttUrl: stopped.url, timeoutMs: 500 }));
    try {
      const r = await raw(orphan.url, 'POST', '/vote/Hulk');
      expect(r.status).toBe(500);
      expect(r.body).toContain('<title>500 Internal Server Error</title>');
    } finally {
      await orphan.close();
    }
  });
});
