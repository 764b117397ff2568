import type { z } from 'zod';
import type { ChaosContext } from '../context.ts';
import type { ProbeSpec } from '../plan.ts';
import type { BackgroundLoad } from '../probes/http.ts';
import type { ProbeOutcome } from '../probes/kubernetes.ts';
import type { Undo } from '../rollback.ts';

// What a step kind is (chaostoolkit's activity: data, run by one executor). A step
// kind is one module exporting one StepDef: the schema of its settings (which turns
// what a file or the flags say into its spec), a one-line description, what it reads
// first (`prepare`, read-only, so a dry run does it too), what it would do in a dry
// run, the rollbacks of the change it makes, and `run`. The executor (execute.ts)
// does the rest for every kind: dry run, journal entries, the step's time limit, and
// registering the rollbacks before `run` changes anything.

/** What a step can ask of the run it is part of. */
export interface RunServices {
  /** Start the experiment's background load and wait until it is sending. */
  startLoad(): Promise<void>;
  /** Stop the background load and judge the load budgets on it. */
  stopLoad(): Promise<void>;
  /** The background load, while there is one. */
  load(): BackgroundLoad | undefined;
  /** Check one probe now. */
  evaluate(probe: ProbeSpec): Promise<ProbeOutcome>;
}

export interface StepContext extends ChaosContext {
  run: RunServices;
  /**
   * Run the rollbacks this step registered now instead of at the end of the run (a
   * fault removed when its duration is over); true when they all succeeded. Each is
   * journaled as a rollback and does not run again.
   */
  restore(): Promise<boolean>;
}

/** The undo of a change, with the command a person runs to do the same. */
export interface Rollback {
  name: string;
  command: string;
  undo: Undo;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface StepDef<K extends string = string, Spec = any, State = any> {
  /** The key that names the step in an experiment's method. */
  kind: K;
  /** Its settings in a file (and the flags of its command), turned into its spec. */
  schema: z.ZodType<Spec, unknown>;
  /** One line for the plan: what it does. */
  describe(spec: Spec): string;
  /** Read what the step needs (read-only: it runs in a dry run too); the result goes to the other parts. */
  prepare?(cx: StepContext, spec: Spec): Promise<State>;
  /** In a dry run, instead of `run`: print what it would do (default: "would <describe>"). */
  dryRun?(cx: StepContext, spec: Spec, state: State): Promise<void> | void;
  /** The rollbacks of the change `run` makes; the executor registers them before `run` starts. */
  rollbacks?(cx: StepContext, spec: Spec, state: State): Rollback[];
  run(cx: StepContext, spec: Spec, state: State): Promise<void>;
  /** The longest the step may take; past it the executor stops it (its rollbacks still run). */
  limitMs?(spec: Spec): number;
}

/** Declare a step kind (the identity function, for inference of its spec and state types). */
export function defineStep<K extends string, Spec, State = undefined>(def: StepDef<K, Spec, State>): StepDef<K, Spec, State> {
  return def;
}

/** A planned step of a kind: `{ kind, spec }`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StepOf<D> = D extends StepDef<infer K, infer S, any> ? { kind: K; spec: S } : never;

/** Any planned step, whatever its kind. */
export interface AnyStep {
  kind: string;
  spec: unknown;
}
