import type { StepRegistry } from '../steps/index.ts';
import type { AnyStep } from '../steps/step.ts';
import { mapping } from './fields.ts';

// A step of an experiment's method: a mapping with exactly one key, the step kind,
// whose value is that kind's settings. The kinds and their schemas come from the
// step registry (each step module owns its schema), so a new kind needs nothing here.

export function stepSchema(steps: StepRegistry) {
  const kinds = steps.kinds.join(', ');
  const shape = Object.fromEntries(steps.defs.map((d) => [d.kind, d.schema.optional()]));
  return mapping(shape)
    .meta({ id: 'step', minProperties: 1, maxProperties: 1, description: `one of: ${kinds}` })
    .superRefine((o, ctx) => {
      const keys = Object.keys(o);
      if (keys.length !== 1) ctx.addIssue({ code: 'custom', input: o, message: `each step is exactly one of: ${kinds}${keys.length ? ` (found ${keys.join(', ')})` : ''}` });
    })
    .transform((o): AnyStep => {
      const [kind, spec] = Object.entries(o).find(([, s]) => s !== undefined)!;
      return { kind, spec };
    });
}
