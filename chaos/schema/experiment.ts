import { z } from 'zod';
import { GAMEDAY_DEFAULTS } from '../defaults.ts';
import { duration, httpUrl, mapping, namespaceName, positiveNumber, text, wholeNumber } from './fields.ts';
import { hypothesisProbe, verdictProbe } from './probes.ts';
import { STEPS, type Step, type StepRegistry } from '../steps/index.ts';
import type { AnyStep } from '../steps/step.ts';
import { stepSchema } from './steps.ts';

// The whole experiment file (chaostoolkit's experiment, in YAML), as one zod schema:
// it validates a file completely before anything touches a cluster, and the JSON
// Schema shipped for editors (chaos/experiment.schema.json) is generated from it.

const load = mapping({
  target: httpUrl.meta({ description: "myhero-app's URL as reached from where myhero-ops runs (NodePort or ingress)" }),
  rate: positiveNumber(0.1, 100_000).optional().meta({ description: 'open model: votes per second' }),
  voters: wholeNumber(1, 100_000).optional().meta({ description: 'closed model: concurrent voters' }),
  duration: duration(1000).meta({ description: 'upper bound of the load; stop-load ends it earlier' }),
  timeout: duration(1).optional(),
  workers: wholeNumber(1, 64).optional(),
})
  .meta({ oneOf: [{ required: ['rate'] }, { required: ['voters'] }] })
  .superRefine((l, ctx) => {
    if ((l.rate === undefined) === (l.voters === undefined)) ctx.addIssue({ code: 'custom', input: l, message: 'needs exactly one of rate (open model) or voters (closed model)' });
  })
  .transform((l) => ({
    target: l.target,
    model: l.rate !== undefined ? ({ kind: 'open', rate: l.rate } as const) : ({ kind: 'closed', voters: l.voters! } as const),
    durationMs: l.duration,
    timeoutMs: l.timeout,
    workers: l.workers ?? 1,
  }));

/** The experiment schema for the kinds of a step registry (the built-in one: `experimentSchema`). */
export function experimentSchemaFor(steps: StepRegistry) {
  return mapping({
    title: text,
    description: text.optional(),
    namespace: namespaceName.optional().meta({ description: 'namespace to act in; -n/--namespace wins' }),
    observe: mapping({ deployment: text.optional(), hpa: text.optional() }).optional().meta({ description: 'objects sampled for the timeline' }),
    load: load.optional(),
    steadyState: z.array(hypothesisProbe, { error: 'expected a list of probes' }).optional(),
    steadyStateRecovery: duration().optional(),
    method: z.array(stepSchema(steps), { error: (iss) => (iss.input === undefined ? 'is required' : 'expected a list of steps') }).min(1, { error: 'an experiment needs at least one step' }),
    probes: z.array(verdictProbe, { error: 'expected a list of probes' }).optional(),
  })
    .superRefine((e, ctx) => {
      if (e.probes?.some((p) => p.load) && !e.load) ctx.addIssue({ code: 'custom', path: ['probes'], input: e.probes, message: 'a load budget needs a load section' });
      if (e.method.some((s) => s.kind === 'start-load' || s.kind === 'stop-load') && !e.load) ctx.addIssue({ code: 'custom', path: ['method'], input: e.method, message: 'start-load/stop-load need a load section' });
    })
    .transform((e) => ({
      title: e.title,
      description: e.description,
      namespace: e.namespace,
      observe: e.observe ?? {},
      load: e.load,
      steadyState: e.steadyState ?? [],
      steadyStateRecoveryMs: e.steadyStateRecovery ?? GAMEDAY_DEFAULTS.steadyStateRecoveryMs,
      method: e.method,
      probes: e.probes ?? [],
    }));
}

export const experimentSchema = experimentSchemaFor(STEPS);

/** An experiment file, parsed: its method's steps are of the registry's kinds. */
export type Experiment<S extends AnyStep = Step> = Omit<z.output<typeof experimentSchema>, 'method'> & { method: S[] };

/** `${NAME}` or `${NAME:-default}`, as written in a file before it is filled. */
export const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * The JSON Schema of experiment files, for editors. Files are written before their
 * `${VARS}` are filled, so wherever a number, a boolean or a patterned string is
 * expected, a string holding a `${...}` reference is accepted too.
 */
export function experimentJsonSchema(steps?: StepRegistry): Record<string, unknown> {
  const reference = { type: 'string', pattern: VARIABLE.source };
  const schema = z.toJSONSchema(steps ? experimentSchemaFor(steps) : experimentSchema, {
    io: 'input',
    target: 'draft-7',
    override: (ctx) => {
      const j = ctx.jsonSchema as Record<string, unknown>;
      const templatable = j.type === 'integer' || j.type === 'number' || j.type === 'boolean' || (j.type === 'string' && j.pattern !== undefined);
      if (!templatable) return;
      const original = { ...j };
      for (const k of Object.keys(j)) delete j[k];
      j.anyOf = [original, reference];
    },
  }) as Record<string, unknown>;
  return {
    ...schema,
    title: 'myhero-ops chaos experiment',
    description: 'A game day: steady-state hypothesis, optional load, method (chaos steps), verdict probes. See chaos/README.md.',
  };
}
