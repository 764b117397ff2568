import { describe, expect, it } from 'vitest';
import { memoize } from '../memo.ts';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('memoize (single-flight + freshness window)', () => {
  it('shares one in-flight load between concurrent callers', async () => {
    let loads = 0;
    const d = deferred<number>();
    const get = memoize(() => {
      loads++;
      return d.promise;
    }, 0);
    const all = Promise.all([get(), get(), get()]);
    d.resolve(7);
    expect(await all).toEqual([7, 7, 7]);
    expect(loads).toBe(1);
  });

  it('reuses a settled value for ttlMs, then loads again', async () => {
    let now = 0;
    let loads = 0;
    const get = memoize(async () => ++loads, 5000, () => now);
    expect(await get()).toBe(1);
    now = 4999;
    expect(await get()).toBe(1);
    now = 5000;
    expect(await get()).toBe(2);
  });

  it('with ttl 0 loads again once the previous load settled', async () => {
    let loads = 0;
    const get = memoize(async () => ++loads, 0);
    expect(await get()).toBe(1);
    expect(await get()).toBe(2);
  });

  it('caches a failure for the same window, so a broken source is not retried on every call', async () => {
    let now = 0;
    let loads = 0;
    const get = memoize(
      async () => {
        loads++;
        throw new Error(`boom ${loads}`);
      },
      1000,
      () => now,
    );
    await expect(get()).rejects.toThrow('boom 1');
    await expect(get()).rejects.toThrow('boom 1');
    now = 1000;
    await expect(get()).rejects.toThrow('boom 2');
  });
});
