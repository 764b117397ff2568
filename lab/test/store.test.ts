import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORAGE, VoteStore } from '../data/store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'myhero-store-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('VoteStore', () => {
  it('acknowledges a vote only once it is in votes.txt, one line per vote', async () => {
    const store = await VoteStore.open(dir, 'none');
    await store.append('Spider-Man');
    expect(readFileSync(join(dir, 'votes.txt'), 'utf8')).toBe('Spider-Man\n');
    await store.close();
  });

  it('group-commits concurrent votes: fewer syncs than votes, every vote written', async () => {
    const store = await VoteStore.open(dir, 'none');
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.append(`Hero ${i % 5}`)));
    expect(readFileSync(join(dir, 'votes.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(50);
    expect(store.syncs).toBeLessThan(50);
    await store.close();
  });

  it('pi-sd syncs every vote on its own, serialized, and says so in its behaviour', async () => {
    const store = await VoteStore.open(dir, 'pi-sd');
    expect(store.behaviour).toEqual(STORAGE['pi-sd']);
    expect(STORAGE['pi-sd'].groupCommit).toBe(false);
    await Promise.all(Array.from({ length: 8 }, () => store.append('Hulk')));
    expect(store.syncs).toBe(8);
    await store.close();
  });

  it('records a vote id once, also across a restart of the store', async () => {
    let store = await VoteStore.open(dir, 'none');
    const first = await Promise.all([store.append('Thor', 'id-1'), store.append('Thor', 'id-1')]);
    expect(first.sort()).toEqual(['duplicate', 'recorded']);
    await store.close();
    store = await VoteStore.open(dir, 'none');
    expect(await store.append('Thor', 'id-1')).toBe('duplicate');
    expect(await store.append('Thor', 'id-2')).toBe('recorded');
    expect(await store.append('Thor')).toBe('recorded');
    expect(readFileSync(join(dir, 'votes.txt'), 'utf8')).toBe('Thor\nThor\nThor\n');
    await store.close();
  });

  it('close() finishes the votes already taken and refuses new ones', async () => {
    const store = await VoteStore.open(dir, 'pi-sd');
    const taken = Promise.all(Array.from({ length: 4 }, () => store.append('Batman')));
    await store.close();
    await taken;
    expect(readFileSync(join(dir, 'votes.txt'), 'utf8').split('\n').filter(Boolean)).toHaveLength(4);
    await expect(store.append('Batman')).rejects.toThrow(/closed/);
  });
});
