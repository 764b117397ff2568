import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signalGroup } from '../proc.ts';

/** Whether `pid` still runs (a zombie waiting for its reaper counts as gone). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('signalGroup', () => {
  it('stops the child and what it started in the background', async () => {
    const child = spawn('sh', ['-c', 'sleep 30 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const grandchild = Number(line.toString().trim());
    expect(running(grandchild)).toBe(true);
    const exited = once(child, 'exit');
    signalGroup(child, 'SIGKILL');
    expect(await exited).toEqual([null, 'SIGKILL']);
    await expect.poll(() => running(grandchild), { timeout: 5000 }).toBe(false);
  });

  it('does nothing when the group is gone already or never started', async () => {
    const done = spawn('true', [], { detached: true });
    await once(done, 'exit');
    expect(() => signalGroup(done, 'SIGKILL')).not.toThrow();
    const never = spawn('/nonexistent/binary', [], { detached: true });
    await once(never, 'error');
    expect(never.pid).toBeUndefined();
    expect(() => signalGroup(never, 'SIGKILL')).not.toThrow();
  });
});
