import { describe, expect, it } from 'vitest';
import { createProgram } from '../../lib/cli.ts';
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
