import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VCGENCMD_PATHS, createVcgencmd, locateVcgencmd } from '../vcgencmd.ts';
import { installFakeVcgencmd, type FakeVcgencmd } from './fixtures/fake-vcgencmd.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
let fake: FakeVcgencmd;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rpi-vcgencmd-'));
  fake = installFakeVcgencmd(dir);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('vcgencmd runner', () => {
  it('returns what the command prints', async () => {
    fake.set({ temp: '61.2', throttled: '0x50005' });
    const run = createVcgencmd({ path: fake.path, timeoutMs: 5000, cacheMs: 0 });
    expect(await run(['measure_temp'])).toBe("temp=61.2'C\n");
    expect(await run(['measure_volts', 'core'])).toBe('volt=1.2000V\n');
    expect(await run(['get_throttled'])).toBe('throttled=0x50005\n');
  });

  it('runs one process per command however many callers ask at once, and caches the answer', async () => {
    const run = createVcgencmd({ path: fake.path, timeoutMs: 5000, cacheMs: 60_000 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => run(['measure_temp'])));
    expect(new Set(answers)).toEqual(new Set(["temp=55.3'C\n"]));
    await run(['measure_temp']);
    await run(['get_throttled']);
    expect(fake.calls().map((c) => c.args)).toEqual(['measure_temp', 'get_throttled']);
  });

  it('runs again once the cache period is over', async () => {
    const run = createVcgencmd({ path: fake.path, timeoutMs: 5000, cacheMs: 50 });
    await run(['measure_temp']);
    fake.set({ temp: '70.1' });
    expect(await run(['measure_temp'])).toBe("temp=55.3'C\n");
    await new Promise((r) => setTimeout(r, 80));
    expect(await run(['measure_temp'])).toBe("temp=70.1'C\n");
    expect(fake.calls()).toHaveLength(2);
  });

  it('says vcgencmd is absent when there is none', async () => {
    const run = createVcgencmd({ path: undefined, timeoutMs: 5000, cacheMs: 0 });
    await expect(run(['measure_temp'])).rejects.toThrow('vcgencmd not found (looked in /usr/bin/vcgencmd, /opt/vc/bin/vcgencmd)');
  });

  it('reports a path that does not exist', async () => {
    const run = createVcgencmd({ path: join(dir, 'nope'), timeoutMs: 5000, cacheMs: 0 });
    await expect(run(['measure_temp'])).rejects.toThrow(/vcgencmd measure_temp: spawn .* ENOENT/);
  });

  it('reports a failing run with its exit status and message', async () => {
    fake.set({ mode: 'fail' });
    const run = createVcgencmd({ path: fake.path, timeoutMs: 5000, cacheMs: 0 });
    await expect(run(['get_throttled'])).rejects.toThrow('vcgencmd get_throttled: exited with 255: VCHI initialization failed');
  });

  it('gives up on a hanging run at the timeout, kills it, and shares that one run meanwhile', async () => {
    fake.set({ mode: 'hang' });
    const run = createVcgencmd({ path: fake.path, timeoutMs: 300, cacheMs: 0 });
    const started = performance.now();
    const results = await Promise.allSettled([run(['measure_temp']), run(['measure_temp']), run(['measure_temp'])]);
    const elapsed = performance.now() - started;
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason.message).toBe('vcgencmd measure_temp: no answer within 300 ms');
    }
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
    const calls = fake.calls();
    expect(calls).toHaveLength(1);
    // The script exec'd `sleep 3600` in its own pid: it must be gone.
    await expect.poll(() => alive(calls[0]!.pid), { timeout: 2000 }).toBe(false);
  });
});

describe('locating vcgencmd', () => {
  it('takes the first executable candidate, /usr/bin before /opt/vc/bin', () => {
    const usrBin = join(dir, 'a/vcgencmd');
    const optVc = join(dir, 'b/vcgencmd');
    for (const p of [usrBin, optVc]) {
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, '#!/bin/sh\n');
      chmodSync(p, 0o755);
    }
    expect(locateVcgencmd([usrBin, optVc])).toBe(usrBin);
    rmSync(usrBin);
    expect(locateVcgencmd([usrBin, optVc])).toBe(optVc);
    chmodSync(optVc, 0o644);
    expect(locateVcgencmd([usrBin, optVc])).toBeUndefined();
  });

  it('looks where Raspberry Pi OS and older Raspbian install it, in that order, by default', () => {
    expect(VCGENCMD_PATHS).toEqual(['/usr/bin/vcgencmd', '/opt/vc/bin/vcgencmd']);
    expect(locateVcgencmd()).toBe(locateVcgencmd(VCGENCMD_PATHS));
  });
});
