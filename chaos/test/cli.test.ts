import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram, exitCodeOf } from '../../lib/cli.ts';
import { EXIT } from '../../lib/errors.ts';
import { registerChaos } from '../cli.ts';
import { manifests, startCluster, type TestCluster } from './fixtures/cluster.ts';
import { runCli } from '../../test/fixtures/cli.ts';

// Every usage error of every chaos command exits 2 with one line, before the first
// request to the cluster: the stand-in must have seen nothing. The commands run in
// this process (the same code path as the binary); one case runs the real binary.

let c: TestCluster;
let dir: string;
beforeAll(async () => {
  c = await startCluster({ objects: manifests(true) });
  dir = mkdtempSync(join(tmpdir(), 'chaos-cli-'));
});
afterAll(() => c?.stop());

/** An experiment file whose method is `step` (one YAML line). */
function experiment(name: string, step: string, extra = ''): string {
  const file = join(dir, name);
  writeFileSync(file, `title: t\n${extra}method:\n  - ${step}\n`);
  return file;
}

function configFile(text: string): string {
  const file = join(dir, 'myhero-ops.yaml');
  writeFileSync(file, text);
  return file;
}

/** Exit code and message of a chaos command run in this process. */
async function runChaos(args: string[]): Promise<{ code: number; message: string }> {
  const program = createProgram();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerChaos(program);
  for (const cmd of program.commands.flatMap((g) => [g, ...g.commands])) cmd.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  const saved = process.exitCode;
  try {
    await program.parseAsync(['node', 'myhero-ops', 'chaos', ...args]);
    return { code: Number(process.exitCode ?? 0), message: '' };
  } catch (err) {
    return { code: exitCodeOf(err), message: err instanceof CommanderError ? 'usage' : (err as Error).message };
  } finally {
    process.exitCode = saved;
  }
}

describe('chaos usage errors: one line, exit 2, no request sent', () => {
  it('every mistake in flags or files, in every chaos command', async () => {
    const k = ['--kubeconfig', c.kubeconfig];
    const kill = ['pod-kill', '-n', 'default', ...k];
    const drain = ['node-drain', '-n', 'default', ...k];
    const nodeKill = ['node-kill', '-n', 'default', ...k, '--node', 'pi-1'];
    const hooks = ['--exec', 'true', '--restore', 'true'];
    const gameday = (file: string, ...more: string[]) => ['gameday', file, '-n', 'default', ...k, ...more];
    const cases: [string[], string][] = [
      [['preflight', ...k], '--namespace is required'],
      [['preflight', '-n', 'Bad_NS', ...k], 'invalid --namespace "Bad_NS"'],
      [['preflight', '-n', 'kube-system', ...k], 'refusing to act in system namespace "kube-system"'],
      [['preflight', '-n', 'prod', ...k], 'namespace "prod" is not in the allowlist (default, myhero)'],
      [['preflight', '-n', 'default', '--kubeconfig', join(dir, 'absent')], 'does not exist'],
      [[...kill], '--selector is required'],
      [[...kill, '--selector', 'tier=app'], 'pass exactly one of --count N or --percent P'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--percent', '50'], 'pass exactly one of --count N or --percent P'],
      [[...kill, '--selector', 'tier=app', '--count', '1.5'], 'invalid --count "1.5": expected a whole number'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--grace', '0.5'], 'invalid --grace "0.5": expected a whole number'],
      [[...kill, '--selector', 'tier=app', '--percent', '150'], 'invalid --percent "150"'],
      [[...kill, '--selector', 'tier in app', '--count', '1'], '--selector: expected a label selector'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--interval', '1ms', '--duration', '1m'], '--interval: expected at least 1s, got 1ms'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--interval', '10s'], '--interval and --duration go together'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--poll', '0'], 'invalid --poll "0": expected at least 100ms'],
      [[...kill, '--selector', 'tier=app', '--count', '1', '--sample', '1ms'], 'invalid --sample "1ms": expected at least 100ms'],
      [[...drain], 'pass exactly one of --node NAME or --random'],
      [[...drain, '--node', 'pi-1', '--random'], 'pass exactly one of --node NAME or --random'],
      [[...drain, '--node', 'Pi 1'], '--node: expected a Kubernetes object name'],
      [[...drain, '--node', 'pi-1', '--retry', '0s'], '--retry: expected at least 100ms, got 0s'],
      [[...drain, '--node', 'pi-1', '--hold', 'soon'], 'invalid --hold "soon"'],
      [[...nodeKill, '--exec', 'true'], '--exec and --restore are both required'],
      [[...nodeKill, ...hooks, '--hook-timeout', 'x'], 'invalid --hook-timeout "x"'],
      [[...nodeKill, ...hooks, '--selector', 'a=b=c'], '--selector: expected a label selector'],
      [['http-fault', '-n', 'default', ...k, '--abort', '500'], '--service is required'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app'], 'pass exactly one of --abort STATUS or --delay DURATION'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app', '--abort', '500', '--delay', '5s'], 'pass exactly one of --abort STATUS or --delay DURATION'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app', '--abort', '700'], 'invalid --abort "700"'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app', '--abort', '500', '--percent', '0'], 'invalid --percent "0"'],
      [['http-fault', '-n', 'default', ...k, '--service', 'My_App', '--abort', '500'], '--service: expected a Kubernetes object name'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app', '--delay', '5s', '--duration', '8s'], '--duration: must be longer than twice settle plus the delay (15s)'],
      [['http-fault', '-n', 'default', ...k, '--service', 'myhero-app', '--abort', '500', '--url', 'http://u:pw@gw/'], 'invalid --url'],
      [['http-fault', '-n', 'kube-system', ...k, '--service', 'myhero-app', '--abort', '500'], 'refusing to act in system namespace "kube-system"'],
      [['cleanup', ...k], '--namespace is required'],
      [gameday(join(dir, 'absent.yaml')), 'cannot read game-day file'],
      [gameday(experiment('count.yaml', 'pod-kill: {selector: tier=app, count: 1.5}')), 'count.yaml: method[0].pod-kill.count: expected a whole number, got 1.5'],
      [gameday(experiment('grace.yaml', 'pod-kill: {selector: tier=app, count: 1, grace: 0.5}')), 'grace.yaml: method[0].pod-kill.grace: expected a whole number, got 0.5'],
      [gameday(experiment('typo.yaml', 'pod-kill: {selector: tier=app, count: 1, gracePeriod: 5}')), 'typo.yaml: method[0].pod-kill: unknown field "gracePeriod"'],
      [gameday(experiment('every.yaml', 'pod-kill: {selector: tier=app, count: 1, every: 1ms, for: 1m}')), 'every.yaml: method[0].pod-kill.every: expected at least 1s, got 1ms'],
      [gameday(experiment('retry.yaml', 'node-drain: {node: pi-1, retry: 0}')), 'retry.yaml: method[0].node-drain.retry: expected at least 100ms, got 0'],
      [gameday(experiment('ok.yaml', 'pause: 1s'), '--set', 'oops'), 'invalid --set "oops": expected NAME=VALUE'],
      [gameday(experiment('unset.yaml', 'pause: ${P}')), 'unset.yaml: ${P} is not set'],
      [gameday(experiment('load.yaml', 'start-load: {}', 'load: {target: "http://127.0.0.1:1", rate: 5, duration: 1m}\n')), 'the experiment has a load section but no myhero-app key'],
      [gameday(experiment('ns.yaml', 'pause: 1s'), '-n', 'kube-system'), 'refusing to act in system namespace "kube-system"'],
      [['preflight', '-n', 'default', ...k, '--config', configFile('chaos:\n  pol: 1s\n')], 'config file: unknown key "pol" in section chaos (known: '],
    ];
    delete process.env.MYHERO_APP_KEY;
    for (const [args, message] of cases) {
      const r = await runChaos(args);
      expect({ args: args.join(' '), code: r.code }).toEqual({ args: args.join(' '), code: EXIT.badInput });
      expect(r.message, args.join(' ')).toContain(message);
      expect(r.message).not.toContain('\n');
    }
    expect(c.api.requests).toEqual([]);
  });

  it('the real binary: chaos gameday bad.yaml prints one line naming the field, exits 2, sends no request', async () => {
    const file = experiment('bad.yaml', 'pod-kill: {selector: "app=myhero,tier=app", count: 1.5}');
    const r = await runCli(['chaos', 'gameday', file, '-n', 'default', '--kubeconfig', c.kubeconfig, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`myhero-ops: ${file}: method[0].pod-kill.count: expected a whole number, got 1.5\n`);
    expect(c.api.requests).toEqual([]);
  });
});
