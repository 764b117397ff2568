import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../lib/cli.ts';
import { runCli } from '../../test/fixtures/cli.ts';
import { registerDashboards } from '../cli.ts';

describe('the dashboards command group', () => {
  const program = createProgram();
  registerDashboards(program);
  const group = program.commands.find((c) => c.name() === 'dashboards')!;

  it.each([
    ['build', ['--out <dir>', '--runbook-base-url <url>', '--node-exporter-job <job>', '--workload-pattern <regex>', '--folder <name>', '--monitoring-namespace <ns>', '--provisioning-path <dir>', '--json']],
    ['lint', ['--prometheus <url>', '--runbook-base-url <url>', '--json']],
    ['push', ['--url <url>', '--token-file <file>', '--basic-auth-file <file>', '--ca-file <file>', '--folder <name>', '--no-overwrite', '--dry-run', '--message <text>', '--timeout <duration>', '--json']],
  ])('%s has help with its options and an example', (name, flags) => {
    const cmd = group.commands.find((c) => c.name() === name)!;
    const help = cmd.helpInformation();
    expect(help).toMatch(new RegExp(`^Usage: myhero-ops dashboards ${name} `));
    expect(help).toMatch(/Example: .*myhero-ops dashboards /);
    for (const f of flags) expect(help).toContain(f);
  });

  it('push names its credential sources, and takes no token on the command line', () => {
    const push = group.commands.find((c) => c.name() === 'push')!;
    expect(push.helpInformation()).toMatch(/GRAFANA_TOKEN/);
    expect(push.options.map((o) => o.long)).not.toContain('--token');
  });
});

describe('dashboards lint on a file that is not JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboards-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    // V8 quotes the source after an unexpected token, newlines included: the token is kept, the quote dropped.
    ['token', '{\n  "title": abc,\n  "panels": []\n}\n', "Unexpected token 'a'"],
    ['position', '{\n  "title": "abc\n  "panels": []\n}\n', 'Bad control character in string literal in JSON at line 2, column 16'],
    ['end', '{"title": "abc', 'Unterminated string in JSON at line 1, column 15'],
  ])('says what is wrong in one complete line (%s), exit 2', async (name, text, reason) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    const r = await runCli(['dashboards', 'lint', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`myhero-ops: dashboard ${file} is not valid JSON: ${reason}\n`);
  });
});
