import { STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { defineStep } from './step.ts';
import { noSettings } from './start-load.ts';

// Stop the background load here; its budgets (load probes) are judged on it now.

export const stopLoad = defineStep({
  kind: 'stop-load',
  schema: noSettings,
  describe: () => 'stop the background load',
  limitMs: () => STEP_LIMIT_SLACK_MS,
  dryRun: () => undefined,
  run: (cx) => cx.run.stopLoad(),
});
