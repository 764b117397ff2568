import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { BODIES } from '../../lib/defaults.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { startLab, type Lab } from '../lab.ts';
import { castVotes, recorded } from './fixtures/votes.ts';

// Direct mode end to end, each service its own process, data on the pi-sd
// storage profile: data stopped → the app answers "vote submission failed"
// within its timeout and recovers when data returns; a SIGTERM to data while
// votes are in flight loses none that were acknowledged.

const TIMEOUT_MS = 1000;
let lab: Lab;

const vote = async (hero = 'Deadpool') => {
  const res = await fetch(`${lab.appUrl}/vote/${hero}`, { method: 'POST', headers: { key: 'DevApp' } });
  return { status: res.status, body: (await res.json()) as unknown };
};

beforeAll(async () => {
  lab = await startLab({ mode: 'direct', dataPort: 0, appPort: 0, storageProfile: 'pi-sd', timeoutMs: TIMEOUT_MS });
});
afterAll(() => lab?.stop());

describe('direct mode', () => {
  it('runs data and app only, and data reports its storage profile', async () => {
    expect(lab.mqttUrl).toBe('');
    expect(lab.metricsTargets.map((t) => t.service).sort()).toEqual(['app', 'data']);
    const exp = parseExposition(await (await fetch(`${lab.dataUrl}/metrics`)).text());
    expect(valueOf(exp, TWIN.storageProfile, { profile: 'pi-sd', service: 'data' })).toBe(1);
    await expect(lab.restartErnst()).rejects.toThrow(/queue mode/);
  });

  it('with data stopped, answers "vote submission failed" within its timeout; recovers when data returns', async () => {
    expect(await vote()).toEqual({ status: 200, body: BODIES.voteSubmitted });
    await lab.stopData();
    const started = Date.now();
    expect(await vote()).toEqual({ status: 200, body: BODIES.voteFailed });
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    await lab.startData();
    expect(await vote()).toEqual({ status: 200, body: BODIES.voteSubmitted });
    // Both acknowledged votes survived the restart of data: they were on disk.
    expect(await recorded(lab.dataUrl)).toBe(2);
    const metrics = parseExposition(await (await fetch(`${lab.appUrl}/metrics`)).text());
    expect(valueOf(metrics, TWIN.votesFailed, { mode: 'direct', reason: 'data_error', service: 'app' })).toBe(1);
  });

  it('SIGTERM to data with votes in flight: every acknowledged vote is in votes.txt', async () => {
    const before = await recorded(lab.dataUrl);
    // pi-sd serializes 25 ms per vote: 20 concurrent votes keep data busy for about half a second.
    const voting = castVotes(lab.appUrl, 20, { concurrency: 20 });
    await new Promise((r) => setTimeout(r, 150));
    await lab.stopData();
    const accepted = await voting;
    const onDisk = readFileSync(join(lab.dataDir, 'votes.txt'), 'utf8').split('\n').filter(Boolean).length;
    expect(accepted).toBeGreaterThan(0);
    expect(onDisk - before).toBe(accepted);
    await lab.startData();
    expect(await recorded(lab.dataUrl)).toBe(before + accepted);
  });
});
