import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The votes file of myhero-data: append-only, one hero per line (`votes.txt`).
// A vote is acknowledged only once it is on disk (fdatasync). Concurrent votes
// share one write + sync (group commit), the way a database journal does;
// the `pi-sd` profile instead syncs every vote on its own, serialized, and adds
// the acknowledgement latency of a Raspberry Pi SD card, so the data tier has
// the small, measurable capacity that makes direct mode fail under load.
//
// Redelivered votes: a vote may carry an idempotency key (ernst sends the vote
// id it got from the queue). Keys are journalled in `vote-ids.txt`, synced after
// the vote itself, so a crash between the two can only count a vote twice on
// redelivery — it can never lose one.

export const VOTES_FILE = 'votes.txt';
export const VOTE_IDS_FILE = 'vote-ids.txt';

export const STORAGE_PROFILES = ['none', 'pi-sd'] as const;
export type StorageProfile = (typeof STORAGE_PROFILES)[number];

export interface StorageBehaviour {
  /** Concurrent appends share one write and one sync. */
  groupCommit: boolean;
  /** Extra time each sync takes to be acknowledged by the (emulated) device. */
  syncLatencyMs: number;
}

/**
 * `pi-sd`: a class-10 microSD card under ext4 acknowledges a small synchronous write in roughly
 * 10–50 ms; 25 ms per sync, one vote per sync, caps the data tier at about 40 votes/s.
 */
export const STORAGE: Record<StorageProfile, StorageBehaviour> = {
  none: { groupCommit: true, syncLatencyMs: 0 },
  'pi-sd': { groupCommit: false, syncLatencyMs: 25 },
};

export type AppendResult = 'recorded' | 'duplicate';

interface Pending {
  hero: string;
  id?: string;
  resolve(): void;
  reject(err: unknown): void;
}

export class VoteStore {
  readonly votesPath: string;
  /** Syncs of the votes file so far: with group commit fewer than votes, with `pi-sd` one per vote. */
  syncs = 0;
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** Idempotency key → the promise that the vote carrying it is durable. */
  private seen = new Map<string, Promise<void>>();

  private constructor(
    dataDir: string,
    private votes: FileHandle,
    private ids: FileHandle,
    readonly behaviour: StorageBehaviour,
  ) {
    this.votesPath = join(dataDir, VOTES_FILE);
  }

  static async open(dataDir: string, profile: StorageProfile): Promise<VoteStore> {
    const votes = await open(join(dataDir, VOTES_FILE), 'a');
    const ids = await open(join(dataDir, VOTE_IDS_FILE), 'a+');
    const store = new VoteStore(dataDir, votes, ids, STORAGE[profile]);
    const known = await readFile(join(dataDir, VOTE_IDS_FILE), 'utf8');
    for (const id of known.split('\n')) if (id) store.seen.set(id, Promise.resolve());
    return store;
  }

  /** Resolves once the vote is on disk; a vote whose key was seen before is not written again. */
  async append(hero: string, id?: string): Promise<AppendResult> {
    if (this.closed) throw new Error('vote store is closed');
    if (id !== undefined) {
      const earlier = this.seen.get(id);
      if (earlier) {
        await earlier;
        return 'duplicate';
      }
    }
    const durable = new Promise<void>((resolve, reject) => this.pending.push({ hero, id, resolve, reject }));
    if (id !== undefined) {
      this.seen.set(id, durable);
      durable.catch(() => this.seen.delete(id));
    }
    this.flushing ??= this.flushLoop().finally(() => (this.flushing = undefined));
    await durable;
    return 'recorded';
  }

  /** The whole votes file, as the original re-reads it for every results request. */
  read(): Promise<string> {
    return readFile(this.votesPath, 'utf8');
  }

  /** Finish the votes already taken, then close the files. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await Promise.all([this.votes.close(), this.ids.close()]);
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.behaviour.groupCommit ? this.pending.splice(0) : this.pending.splice(0, 1);
      try {
        await this.votes.write(batch.map((p) => `${p.hero}\n`).join(''));
        await this.votes.datasync();
        this.syncs += 1;
        const keyed = batch.filter((p) => p.id !== undefined);
        if (keyed.length > 0) {
          await this.ids.write(keyed.map((p) => `${p.id}\n`).join(''));
          await this.ids.datasync();
        }
        if (this.behaviour.syncLatencyMs > 0) await sleep(this.behaviour.syncLatencyMs);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  }
}
