import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../defaults.ts';
import { listen } from '../net.ts';
import { runCli } from '../../test/fixtures/cli.ts';

// The CLI frame, through the real binary: at debug level a command logs the settings
// it resolved (default < file < env < flag) before it runs, its secret settings masked
// whatever their names (the logger's own redaction knows `key`, not `appKey`).

const APP_KEY = 'Sekr3t-App-Key-41';
const DATA_KEY = 'Sekr3t-Data-Key-42';
let blocker: Server;
let port: number;
beforeAll(async () => {
  blocker = createServer();
  port = await listen(blocker, 0, '127.0.0.1', 'the port lab up finds taken');
});
afterAll(() => new Promise((r) => blocker.close(r)));

// `lab up` on a port already taken: the settings resolve, then the command stops at once (exit 3).
const labUp = (level: string) =>
  runCli(['--log-level', level, 'lab', 'up', '--mode', 'queue', '--app-port', String(port), '--data-port', '0', '--app-key', APP_KEY], { env: { [ENV.dataKey]: DATA_KEY } });

describe('the effective settings at debug level', () => {
  it('--log-level debug shows the resolved settings, secrets from a flag or the environment redacted and nowhere in the output', async () => {
    const r = await labUp('debug');
    expect(r.code, r.stderr).toBe(3);
    const line = r.stderr.split('\n').find((l) => l.includes('"msg":"effective settings"'));
    expect(line, r.stderr).toBeDefined();
    const { settings, name } = JSON.parse(line!) as { settings: Record<string, unknown>; name: string };
    expect(name).toBe('myhero-ops lab up');
    expect(settings).toMatchObject({ mode: 'queue', appPort: port, dataPort: 0, appKey: '[redacted]', dataKey: '[redacted]' });
    expect(`${r.stdout}${r.stderr}`).not.toContain(APP_KEY);
    expect(`${r.stdout}${r.stderr}`).not.toContain(DATA_KEY);
  });

  it('is not logged above debug level', async () => {
    const r = await labUp('info');
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain('effective settings');
  });
});

describe('the sections of the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-config-'));
  const config = (name: string, yaml: string) => {
    writeFileSync(join(dir, name), yaml);
    return join(dir, name);
  };
  const labUpWith = (file: string) => runCli(['--config', file, 'lab', 'up', '--app-port', String(port), '--data-port', '0'], { env: { [ENV.appKey]: APP_KEY, [ENV.dataKey]: DATA_KEY } });

  it("accepts the sections of commands whose folder this run does not load (lab up reads chaos's and loadtest's file)", async () => {
    const r = await labUpWith(config('others.yaml', 'lab:\n  mode: queue\nloadtest:\n  voters: 5\nchaos: {}\nmonitoring:\n  namespace: votes\n'));
    expect(r.stderr).toContain('already in use');
    expect(r.code, r.stderr).toBe(3);
  });

  it('refuses a section no command reads, in one line, before anything runs (negative control)', async () => {
    const r = await labUpWith(config('typo.yaml', 'lab:\n  mode: queue\nloadtests:\n  voters: 5\n'));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^myhero-ops: config file: unknown section "loadtests" \(known: [^\n]*\bloadtest\b[^\n]*\)\n$/);
  });
});
