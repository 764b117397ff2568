import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { BODIES, DEFAULT_HEROES } from '../../lib/defaults.ts';
import { silentLogger } from '../../lib/log.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { OPTION_ERRORS } from '../api.ts';
import { startData, type DataServer } from '../data/server.ts';
import { call as callAt } from './fixtures/call.ts';

// Pins the twin's myhero-data API to the brief and the original service: routes, status codes, bodies, keys.

let dir: string;
let data: DataServer;
const KEY = { key: 'DevData' };

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => callAt(data.url, method, path, headers, body);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'myhero-data-contract-'));
  data = await startData({ host: '127.0.0.1', port: 0, dataDir: dir, key: 'DevData', storageProfile: 'none', log: silentLogger });
});
afterAll(async () => {
  await data.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('myhero-data contract', () => {
  it('GET /hero_list needs no key (probe path) and lists the shipped options', async () => {
    const r = await call('GET', '/hero_list');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.body).toEqual({ heros: [...DEFAULT_HEROES] });
  });

  it.each([
    ['POST', '/vote/Hulk'],
    ['GET', '/options'],
    ['PUT', '/options'],
    ['POST', '/options'],
    ['DELETE', '/options/Hulk'],
  ])('%s %s: no key → 400, wrong key → 401, with the original bodies', async (method, path) => {
    const missing = await call(method, path);
    expect([missing.status, missing.body]).toEqual([400, BODIES.missingKey]);
    const wrong = await call(method, path, { key: 'SecureData' });
    expect([wrong.status, wrong.body]).toEqual([401, BODIES.invalidKey]);
  });

  it('POST /vote/<hero> answers {"result": "1"} once the vote is in votes.txt; results count it', async () => {
    for (const hero of ['Deadpool', 'Superman', 'Deadpool']) {
      const r = await call('POST', `/vote/${encodeURIComponent(hero)}`, KEY);
      expect([r.status, r.body]).toEqual([200, { result: '1' }]);
    }
    expect(readFileSync(join(dir, 'votes.txt'), 'utf8')).toBe('Deadpool\nSuperman\nDeadpool\n');
    expect((await call('GET', '/results')).body).toEqual({ Deadpool: 2, Superman: 1 });
    const v2 = await call('GET', '/v2/results');
    expect(v2.status).toBe(200);
    expect(v2.body).toEqual([
      ['Deadpool', 2, 66.6],
      ['Superman', 1, 33.3],
    ]);
  });

  it('decodes hero names from the path and refuses a line break (it would forge a second vote)', async () => {
    expect((await call('POST', '/vote/Captain%20Cloud', KEY)).status).toBe(200);
    expect((await call('GET', '/results')).body).toMatchObject({ 'Captain Cloud': 1 });
    const forged = await call('POST', '/vote/Hulk%0AHulk', KEY);
    expect(forged.status).toBe(400);
  });

  it('a vote carrying an idempotency key already recorded is acknowledged but not counted again', async () => {
    const before = (await call('GET', '/results')).body as Record<string, number>;
    for (let i = 0; i < 3; i++) {
      expect((await call('POST', '/vote/Thor', { ...KEY, 'idempotency-key': 'vote-42' })).body).toEqual({ result: '1' });
    }
    const after = (await call('GET', '/results')).body as Record<string, number>;
    expect((after.Thor ?? 0) - (before.Thor ?? 0)).toBe(1);
  });

  it('options: GET 200, PUT 201 (and "already in list"), DELETE 202, POST 201 replaces', async () => {
    expect(await call('GET', '/options', KEY)).toMatchObject({ status: 200, body: { options: [...DEFAULT_HEROES] } });
    const put = await call('PUT', '/options', KEY, { option: 'Star Lord' });
    expect(put).toMatchObject({ status: 201, body: { options: [...DEFAULT_HEROES, 'Star Lord'] } });
    expect(await call('PUT', '/options', KEY, { option: 'star lord' })).toMatchObject({ status: 201, body: { options: 'Option already in list.' } });
    const del = await call('DELETE', '/options/Star%20Lord', KEY);
    expect(del).toMatchObject({ status: 202, body: { options: [...DEFAULT_HEROES] } });
    const post = await call('POST', '/options', KEY, { options: ['Robin', 'Batman'] });
    expect(post).toMatchObject({ status: 201, body: { options: ['Robin', 'Batman'] } });
    expect((await call('GET', '/hero_list')).body).toEqual({ heros: ['Robin', 'Batman'] });
    expect(readFileSync(join(dir, 'myhero_options.txt'), 'utf8')).toBe('Robin\nBatman\n');
  });

  it('malformed option changes get the original 400 bodies', async () => {
    expect(await call('PUT', '/options', KEY, { options: 'x' })).toMatchObject({ status: 400, body: OPTION_ERRORS.put });
    expect(await call('PUT', '/options', KEY, 'not json')).toMatchObject({ status: 400, body: OPTION_ERRORS.put });
    expect(await call('POST', '/options', KEY, { option: 'x' })).toMatchObject({ status: 400, body: OPTION_ERRORS.post });
  });

  it('unknown paths are 404, known paths with another method 405', async () => {
    expect((await call('GET', '/nope')).status).toBe(404);
    const r = await call('GET', '/vote/Hulk', KEY);
    expect(r.status).toBe(405);
  });

  it('/metrics reports RED per route template, votes recorded and the storage profile', async () => {
    const exp = parseExposition((await call('GET', '/metrics')).text);
    expect(valueOf(exp, TWIN.httpRequests, { route: '/vote/:hero', method: 'POST', code: '200', service: 'data' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(exp, TWIN.votesRecorded, { service: 'data' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(exp, TWIN.votesDuplicate, { service: 'data' })).toBe(2);
    expect(valueOf(exp, TWIN.storageProfile, { profile: 'none', service: 'data' })).toBe(1);
    expect(valueOf(exp, TWIN.storageProfile, { profile: 'pi-sd', service: 'data' })).toBe(0);
  });
});
