import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.ts';

// Every command that writes files to --out (through lib/output.ts) says the same
// about a directory it cannot write: one line naming it and the reason, exit 3.

describe('an --out directory that cannot be written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Below a plain file: ENOTDIR even for root, who may write anywhere else.
  const file = join(dir, 'a-file');
  writeFileSync(file, '');

  it.each([
    ['alerts build', []],
    ['dashboards build', []],
    ['loadtest k6-operator', ['--target', 'http://myhero-app.myhero.svc']],
  ])('%s names the directory and the reason in one line, exit 3', async (command, args) => {
    const out = join(file, 'out');
    const r = await runCli([...command.split(' '), ...args, '--out', out], { cleanEnv: true });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`myhero-ops: cannot write to ${out}: ENOTDIR: not a directory, mkdir '${out}'\n`);
  });
});
