import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amtoolBinary, promtoolBinary } from '../lib/promstack.ts';
import { EXIT, describeError, type ExitCode } from '../lib/errors.ts';
import { BUNDLE_PATHS, ruleContext } from './bundle.ts';
import { alertCases } from './cases/index.ts';
import { inhibitionCases } from './cases/inhibition.ts';
import { routeCases } from './cases/routes.ts';
import type { AlertsConfig } from './config.ts';
import { checkInhibition } from './inhibition.ts';
import type { RuleGroup } from './rule.ts';
import { coverageProblems } from './unittests.ts';

// The checks `alerts test` runs on a built bundle, with the real promtool,
// amtool and Alertmanager: each one passes or says why not.

export interface CheckResult {
  name: string;
  ok: boolean;
  /** The check could not run (a tool that would not start, a crash): no verdict either way. */
  unjudged?: boolean;
  /** One line on success (what was checked); the tool's own output on failure. */
  detail: string;
  ms: number;
}

/** 1 when any check failed (a verdict is a verdict), else 3 when any could not be judged, else 0. */
export function checksExitCode(results: readonly CheckResult[]): ExitCode {
  if (results.some((r) => !r.ok && !r.unjudged)) return EXIT.failed;
  if (results.some((r) => r.unjudged)) return EXIT.unjudged;
  return EXIT.passed;
}

interface ToolRun {
  code: number | null;
  output: string;
}

function runTool(bin: string, args: string[], opts: { cwd?: string; signal?: AbortSignal }): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, signal: opts.signal, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: output.trim() }));
  });
}

const filesIn = (dir: string, suffix: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort()
    .map((f) => join(dir, f));

export interface CheckOptions {
  signal?: AbortSignal;
  /** Called as each check starts and finishes, for progress output. */
  onStart?: (name: string) => void;
  onResult?: (r: CheckResult) => void;
}

/** Run every check on the bundle written to `dir` by `buildBundle(cfg)`. */
export async function runChecks(cfg: AlertsConfig, groups: readonly RuleGroup[], dir: string, opts: CheckOptions = {}): Promise<CheckResult[]> {
  const { signal } = opts;
  const promtool = promtoolBinary();
  const amtool = amtoolBinary();
  const amConfig = join(dir, BUNDLE_PATHS.alertmanager);
  const steps: { name: string; run: () => Promise<{ ok: boolean; detail: string }> }[] = [];
  const step = (name: string, run: () => Promise<{ ok: boolean; detail: string }>) => steps.push({ name, run });

  step('unit-test coverage', async () => {
    const problems = coverageProblems(groups, alertCases(ruleContext(cfg)));
    const alerts = groups.reduce((n, g) => n + g.alerts.length, 0);
    return problems.length
      ? { ok: false, detail: problems.join('\n') }
      : { ok: true, detail: `${alerts} alerts, each with a firing and a must-not-fire case` };
  });

  const ruleFiles = filesIn(join(dir, BUNDLE_PATHS.rules), '.rules.yml');
  step('promtool check rules', async () => {
    const r = await runTool(promtool, ['check', 'rules', ...ruleFiles], { signal });
    return { ok: r.code === 0, detail: r.code === 0 ? `${ruleFiles.length} rule files` : r.output };
  });

  const testFiles = filesIn(join(dir, BUNDLE_PATHS.tests), '.test.yml');
  step('promtool test rules', async () => {
    const r = await runTool(promtool, ['test', 'rules', ...testFiles], { signal });
    const cases = alertCases(ruleContext(cfg)).length;
    return { ok: r.code === 0, detail: r.code === 0 ? `${cases} cases in ${testFiles.length} files` : r.output };
  });

  step('amtool check-config', async () => {
    const r = await runTool(amtool, ['check-config', amConfig], { signal });
    return { ok: r.code === 0, detail: r.code === 0 ? 'alertmanager.yml and its templates' : r.output };
  });

  step('amtool config routes test', async () => {
    const cases = routeCases(groups, cfg);
    const failures: string[] = [];
    for (const c of cases) {
      const labels = Object.entries(c.labels).map(([k, v]) => `${k}=${v}`);
      const r = await runTool(amtool, ['config', 'routes', 'test', `--config.file=${amConfig}`, `--verify.receivers=${c.receivers.join(',')}`, ...labels], { signal });
      if (r.code !== 0) failures.push(`${c.name}: expected ${c.receivers.join(',')}, amtool said: ${r.output.split('\n').filter((l) => !l.startsWith('Warning:')).join(' ')}`);
    }
    return failures.length ? { ok: false, detail: failures.join('\n') } : { ok: true, detail: `${cases.length} label sets reach their receivers` };
  });

  step('inhibition (real Alertmanager)', async () => {
    // Webhook URL files that lead nowhere: this check ends long before group_wait would notify.
    const secrets = mkdtempSync(join(tmpdir(), 'myhero-alerts-inhibit-'));
    try {
      const nowhere = join(secrets, 'slack-url');
      writeFileSync(nowhere, 'http://127.0.0.1:9/discard\n');
      const checkCfg: AlertsConfig = { ...cfg, slack: { ...cfg.slack, criticalUrlFile: nowhere, alertsUrlFile: nowhere } };
      const cases = inhibitionCases(cfg.selectors);
      const outcomes = await checkInhibition(checkCfg, cases, signal);
      const wrong = outcomes.filter((o) => o.inhibited !== o.case.inhibited);
      return wrong.length
        ? { ok: false, detail: wrong.map((o) => `${o.case.labels.alertname} (${o.case.why}): ${o.inhibited ? 'inhibited' : 'not inhibited'}, expected the opposite`).join('\n') }
        : { ok: true, detail: `${cases.filter((c) => c.inhibited).length} of ${cases.length} posted alerts inhibited, as expected` };
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  });

  const results: CheckResult[] = [];
  for (const { name, run } of steps) {
    if (signal?.aborted) break;
    opts.onStart?.(name);
    const t0 = Date.now();
    let outcome: { ok: boolean; unjudged?: boolean; detail: string };
    try {
      outcome = await run();
    } catch (err) {
      outcome = { ok: false, unjudged: true, detail: describeError(err) };
    }
    const r = { name, ...outcome, ms: Date.now() - t0 };
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}
