import { z } from 'zod';
import { STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { defineStep } from './step.ts';

// Start the experiment's background load (its `load:` section) at this point of
// the method; without this step it starts before the first one.

/** `start-load: {}` and `stop-load: {}` take no settings. */
export const noSettings = z
  .union([z.null(), z.strictObject({}, { error: 'takes no settings ({})' })], { error: 'takes no settings ({})' })
  .meta({ description: 'no settings: {}' })
  .transform(() => ({}));

export const startLoad = defineStep({
  kind: 'start-load',
  schema: noSettings,
  describe: () => 'start the background load',
  limitMs: () => STEP_LIMIT_SLACK_MS,
  dryRun: (cx) => cx.run.startLoad(),
  run: (cx) => cx.run.startLoad(),
});
