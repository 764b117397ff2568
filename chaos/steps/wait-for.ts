import { STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { seconds, secs, waitUntil } from '../context.ts';
import { outcome } from '../journal.ts';
import { describeProbe } from '../probes/describe.ts';
import { waitForProbe } from '../schema/probes.ts';
import { defineStep } from './step.ts';

// Wait until a probe holds, within a deadline: its own verdict (e.g. "scales to
// the target under load").

export const waitFor = defineStep({
  kind: 'wait-for',
  schema: waitForProbe,
  describe: (s) => `wait up to ${secs(s.withinMs)} for ${describeProbe(s.probe)}`,
  limitMs: (s) => s.withinMs + STEP_LIMIT_SLACK_MS,
  dryRun: () => undefined,
  async run(cx, s) {
    const r = await waitUntil(() => cx.run.evaluate(s.probe), (o) => o.ok, { timeoutMs: s.withinMs, pollMs: cx.pollMs, signal: cx.signal });
    cx.journal.probe({ name: s.probe.name, phase: 'during', ok: r.ok, value: r.value.value, reason: r.value.reason });
    cx.journal.verdict({
      name: s.probe.name,
      outcome: outcome(r.ok),
      reason: r.ok ? `${r.value.reason}, after ${seconds(r.elapsedMs)}` : `not within ${seconds(s.withinMs)}: ${r.value.reason}`,
    });
  },
});
