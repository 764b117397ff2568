import type { AlertCase } from './cases/case.ts';
import { groupStem, runbookUrl, toYaml } from './render.ts';
import type { RuleGroup } from './rule.ts';

// promtool unit-test files from the case data, and the coverage check that
// fails the build when an alert has no firing case or no must-not-fire case.

/** Evaluation step of the unit tests: the shortest group interval, so every group is evaluated on time. */
const TEST_EVALUATION_INTERVAL = '30s';

function testGroup(c: AlertCase, runbookBase: string) {
  return {
    name: `${c.alert}: ${c.name}`,
    interval: c.interval ?? '1m',
    input_series: c.series,
    alert_rule_test: [
      {
        eval_time: c.evalTime,
        alertname: c.alert,
        exp_alerts: c.expect.map((e) => ({
          exp_labels: e.labels,
          exp_annotations: { summary: e.summary, description: e.description, runbook_url: runbookUrl(runbookBase, c.alert) },
        })),
      },
    ],
  };
}

/**
 * One promtool test file per rule group: `<stem>.test.yml`, with rule_files
 * pointing at `<rulesDir>/<stem>.rules.yml` (relative to the test file).
 */
export function unitTestFiles(groups: readonly RuleGroup[], cases: readonly AlertCase[], opts: { runbookBaseUrl: string; rulesDir: string }): Record<string, string> {
  const files: Record<string, string> = {};
  for (const g of groups) {
    const names = new Set(g.alerts.map((a) => a.name));
    const mine = cases.filter((c) => names.has(c.alert));
    files[`${groupStem(g)}.test.yml`] = toYaml({
      rule_files: [`${opts.rulesDir}/${groupStem(g)}.rules.yml`],
      evaluation_interval: TEST_EVALUATION_INTERVAL,
      tests: mine.map((c) => testGroup(c, opts.runbookBaseUrl)),
    });
  }
  return files;
}

/** Why the cases do not cover the rules; empty when every alert has a firing and a must-not-fire case. */
export function coverageProblems(groups: readonly RuleGroup[], cases: readonly AlertCase[]): string[] {
  const problems: string[] = [];
  const alerts = groups.flatMap((g) => g.alerts);
  const known = new Set(alerts.map((a) => a.name));
  for (const a of alerts) {
    const mine = cases.filter((c) => c.alert === a.name);
    if (!mine.some((c) => c.expect.length > 0)) problems.push(`${a.name} has no unit-test case where it fires`);
    if (!a.alwaysFires && !mine.some((c) => c.expect.length === 0)) problems.push(`${a.name} has no unit-test case where it must not fire`);
  }
  for (const name of new Set(cases.map((c) => c.alert))) {
    if (!known.has(name)) problems.push(`unit-test cases name ${name}, which no rule defines`);
  }
  return problems;
}
