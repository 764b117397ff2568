import { hpaScaleDown } from './hpa-scale-down.ts';
import { httpFault } from './http-fault.ts';
import { nodeDrain } from './node-drain.ts';
import { nodeKill } from './node-kill.ts';
import { pause } from './pause.ts';
import { podKill } from './pod-kill.ts';
import { removeReadinessProbe } from './remove-readiness-probe.ts';
import { rolloutRestart } from './rollout-restart.ts';
import { startLoad } from './start-load.ts';
import type { StepDef, StepOf } from './step.ts';
import { stopLoad } from './stop-load.ts';
import { waitFor } from './wait-for.ts';

// The step registry: every step kind an experiment's method can name. The plan's
// Step type, the experiment schema (and its JSON Schema), the plan's descriptions
// and the executor all derive from it, so a new kind is its own module plus one
// line here (and its test, RBAC verbs and docs: chaos/README.md, "Adding a step kind").

export const BUILTIN_STEPS = [podKill, nodeDrain, nodeKill, rolloutRestart, removeReadinessProbe, httpFault, pause, waitFor, startLoad, stopLoad, hpaScaleDown] as const;

/** A step of the method, of any built-in kind: `{ kind, spec }`. */
export type Step = StepOf<(typeof BUILTIN_STEPS)[number]>;

export type StepKind = Step['kind'];

/** Step kinds by name; built by `createRegistry`, which refuses two kinds of one name. */
export interface StepRegistry {
  readonly defs: readonly StepDef[];
  readonly kinds: readonly string[];
  get(kind: string): StepDef;
}

export function createRegistry(defs: readonly StepDef[]): StepRegistry {
  const byKind = new Map<string, StepDef>();
  for (const d of defs) {
    if (byKind.has(d.kind)) throw new Error(`two step kinds are named ${d.kind}`);
    byKind.set(d.kind, d);
  }
  return {
    defs,
    kinds: [...byKind.keys()],
    get(kind) {
      const d = byKind.get(kind);
      if (!d) throw new Error(`unknown step kind ${kind} (known: ${[...byKind.keys()].join(', ')})`);
      return d;
    },
  };
}

export const STEPS = createRegistry(BUILTIN_STEPS);

/** The spec of a built-in step kind (what its schema makes of the file's settings). */
export type SpecOf<K extends StepKind> = Extract<Step, { kind: K }>['spec'];
