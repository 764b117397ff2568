import { setTimeout as sleep } from 'node:timers/promises';
import { STEP_LIMIT_SLACK_MS } from '../defaults.ts';
import { secs } from '../context.ts';
import { duration } from '../schema/fields.ts';
import { defineStep } from './step.ts';

// A pause between steps: `pause: 20s`.

export const pause = defineStep({
  kind: 'pause',
  schema: duration().transform((ms) => ({ ms })),
  describe: (s) => `pause ${secs(s.ms)}`,
  limitMs: (s) => s.ms + STEP_LIMIT_SLACK_MS,
  dryRun: () => undefined,
  run: (cx, s) => sleep(s.ms, undefined, { signal: cx.signal }),
});
