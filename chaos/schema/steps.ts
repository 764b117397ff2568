import { z } from 'zod';
import { GAMEDAY_DEFAULTS as D, MIN_INTERVAL_MS } from '../defaults.ts';
import type { Step } from '../plan.ts';
import { duration, labelSelector, mapping, objectName, positiveNumber, text, wholeNumber } from './fields.ts';
import { waitForProbe } from './probes.ts';

// One schema per step kind of an experiment's method. Each validates the step's
// settings completely and turns them into the plan's Step, so a step kind is one
// self-contained piece (schema → Step) that can live in a module of its own.

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** Grace periods go to the API as whole seconds. */
const graceSeconds = wholeNumber(0, 3600).meta({ description: "delete grace period in whole seconds (default: the pod's own terminationGracePeriodSeconds)" });

export const podKillStep = mapping({
  selector: labelSelector,
  count: wholeNumber(1).optional(),
  percent: positiveNumber(1, 100).optional(),
  grace: graceSeconds.optional(),
  every: duration(MIN_INTERVAL_MS.podKillEvery).optional(),
  for: duration().optional(),
  recoverWithin: duration().optional(),
})
  .meta({ id: 'pod-kill', oneOf: [{ required: ['count'] }, { required: ['percent'] }] })
  .superRefine((b, ctx) => {
    if ((b.count === undefined) === (b.percent === undefined)) ctx.addIssue({ code: 'custom', input: b, message: 'needs exactly one of count, percent' });
    if ((b.every === undefined) !== (b.for === undefined)) ctx.addIssue({ code: 'custom', input: b, message: 'every and for go together' });
  })
  .transform(
    (b): StepOf<'pod-kill'> => ({
      kind: 'pod-kill',
      spec: { selector: b.selector, radius: b.count !== undefined ? { count: b.count } : { percent: b.percent! }, graceSeconds: b.grace, recoverWithinMs: b.recoverWithin || undefined },
      everyMs: b.every,
      forMs: b.for,
    }),
  );

export const nodeDrainStep = mapping({
  node: objectName.meta({ description: 'a node name, or random (a Ready worker that is not the last one)' }),
  evictionTimeout: duration(1).optional(),
  retry: duration(MIN_INTERVAL_MS.evictionRetry).optional(),
  hold: duration().optional(),
  grace: graceSeconds.optional(),
})
  .meta({ id: 'node-drain' })
  .transform(
  (b): StepOf<'node-drain'> => ({
    kind: 'node-drain',
    spec: { node: b.node, evictionTimeoutMs: b.evictionTimeout ?? D.evictionTimeoutMs, retryMs: b.retry ?? D.evictionRetryMs, graceSeconds: b.grace },
    holdMs: b.hold ?? 0,
  }),
);

export const nodeKillStep = mapping({
  node: objectName.meta({ description: 'a node name, or random (a Ready worker that is not the last one)' }),
  exec: text.meta({ description: 'shell command that stops the node; {node} is replaced by its name' }),
  restore: text.meta({ description: 'shell command that brings the node back (the rollback)' }),
  selector: labelSelector.optional(),
  notReadyTimeout: duration(1).optional(),
  recoverTimeout: duration(1).optional(),
  hookTimeout: duration(1).optional(),
})
  .meta({ id: 'node-kill' })
  .transform(
  (b): StepOf<'node-kill'> => ({
    kind: 'node-kill',
    spec: {
      node: b.node,
      exec: b.exec,
      restore: b.restore,
      selector: b.selector ?? D.nodeKillSelector,
      notReadyTimeoutMs: b.notReadyTimeout ?? D.nodeNotReadyTimeoutMs,
      recoverTimeoutMs: b.recoverTimeout ?? D.nodeRecoverTimeoutMs,
      hookTimeoutMs: b.hookTimeout ?? D.hookTimeoutMs,
    },
  }),
);

export const rolloutRestartStep = mapping({ deployment: objectName, within: duration(1).optional() })
  .meta({ id: 'rollout-restart' })
  .transform(
  (b): StepOf<'rollout-restart'> => ({ kind: 'rollout-restart', deployment: b.deployment, withinMs: b.within ?? D.rolloutWithinMs }),
);

export const removeReadinessProbeStep = mapping({ deployment: objectName })
  .meta({ id: 'remove-readiness-probe' })
  .transform(
  (b): StepOf<'remove-readiness-probe'> => ({ kind: 'remove-readiness-probe', deployment: b.deployment }),
);

export const pauseStep = duration().transform((ms): StepOf<'pause'> => ({ kind: 'pause', ms }));

export const waitForStep = waitForProbe.transform((w): StepOf<'wait-for'> => ({ kind: 'wait-for', ...w }));

/** `start-load: {}` and `stop-load: {}` take no settings. */
const noSettings = z
  .union([z.null(), z.strictObject({}, { error: 'takes no settings ({})' })], { error: 'takes no settings ({})' })
  .meta({ description: 'no settings: {}' });

export const startLoadStep = noSettings.transform((): StepOf<'start-load'> => ({ kind: 'start-load' }));
export const stopLoadStep = noSettings.transform((): StepOf<'stop-load'> => ({ kind: 'stop-load' }));

export const hpaScaleDownStep = mapping({ hpa: objectName, metricWithin: duration(1).optional(), within: duration().optional() })
  .meta({ id: 'hpa-scale-down' })
  .transform(
  (b): StepOf<'hpa-scale-down'> => ({ kind: 'hpa-scale-down', hpa: b.hpa, metricWithinMs: b.metricWithin ?? D.hpaMetricWithinMs, withinMs: b.within || undefined }),
);

/** Every step kind, by the key that names it in a file. */
export const STEP_SCHEMAS = {
  'pod-kill': podKillStep,
  'node-drain': nodeDrainStep,
  'node-kill': nodeKillStep,
  'rollout-restart': rolloutRestartStep,
  'remove-readiness-probe': removeReadinessProbeStep,
  pause: pauseStep,
  'wait-for': waitForStep,
  'start-load': startLoadStep,
  'stop-load': stopLoadStep,
  'hpa-scale-down': hpaScaleDownStep,
} satisfies { [K in Step['kind']]: z.ZodType<StepOf<K>, unknown> };

const KINDS = Object.keys(STEP_SCHEMAS);

/** A step of the method: a mapping with exactly one step kind as its key. */
export const step = mapping(Object.fromEntries(Object.entries(STEP_SCHEMAS).map(([k, s]) => [k, s.optional()])) as { [K in keyof typeof STEP_SCHEMAS]: z.ZodOptional<(typeof STEP_SCHEMAS)[K]> })
  .meta({ id: 'step', minProperties: 1, maxProperties: 1, description: `one of: ${KINDS.join(', ')}` })
  .superRefine((o, ctx) => {
    const keys = Object.keys(o);
    if (keys.length !== 1) ctx.addIssue({ code: 'custom', input: o, message: `each step is exactly one of: ${KINDS.join(', ')}${keys.length ? ` (found ${keys.join(', ')})` : ''}` });
  })
  .transform((o) => Object.values(o).find((s) => s !== undefined) as Step);
