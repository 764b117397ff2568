import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { yamlErrorLine } from '../lib/config.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import type { Plan } from './plan.ts';
import { VARIABLE, experimentSchema, experimentSchemaFor } from './schema/experiment.ts';
import { firstIssue } from './schema/fields.ts';
import type { Step, StepRegistry } from './steps/index.ts';
import type { AnyStep } from './steps/step.ts';

// Game-day files (chaostoolkit's experiment, in YAML): title, optional load,
// steady-state hypothesis, method, verdict probes. `${NAME}` / `${NAME:-default}`
// are filled from --set NAME=VALUE, then the environment, so one file serves a Pi
// cluster, a cloud cluster and the simulated one in the tests. The whole file is
// checked against one schema (schema/experiment.ts) before any cluster call; a
// mistake is one line naming its place in the file.

export interface GamedayOptions {
  /** -n/--namespace: wins over the file's `namespace:`. */
  namespace?: string;
  vars?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** The step kinds a method may name (default: the built-in registry). */
  steps?: StepRegistry;
}

/**
 * Fill `${VARS}` in one scalar. A scalar that is exactly one reference takes the
 * value's YAML type when it is a number or a boolean (`rate: ${RATE:-40}` is 40);
 * anything else stays text, so a value can never change the file's structure.
 */
function fillScalar(s: string, lookup: (name: string, def: string | undefined) => string): unknown {
  const whole = new RegExp(`^${VARIABLE.source}$`).exec(s);
  const filled = s.replace(VARIABLE, (_, name: string, def: string | undefined) => lookup(name, def));
  if (!whole) return filled;
  try {
    const typed: unknown = parseYaml(filled);
    return typeof typed === 'number' || typeof typed === 'boolean' ? typed : filled;
  } catch {
    return filled;
  }
}

/** Substitute `${VARS}` in every string value of a parsed document (keys and comments are left alone). */
export function substitute(doc: unknown, vars: Record<string, string>, env: NodeJS.ProcessEnv, file: string): unknown {
  const lookup = (name: string, def: string | undefined): string => {
    const v = vars[name] ?? env[name] ?? def;
    if (v === undefined) throw new UserError(`${file}: \${${name}} is not set (pass --set ${name}=... or set it in the environment)`, EXIT.badInput);
    return v;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fillScalar(v, lookup);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(doc);
}

/** Parse a game-day file into a plan. `namespace` (from -n) wins over the file's. */
export function loadGameday<S extends AnyStep = Step>(file: string, opts: GamedayOptions): Plan<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read game-day file ${file}: ${describeError(err)}`, EXIT.badInput);
  }
  return parseGameday<S>(text, file, opts);
}

export function parseGameday<S extends AnyStep = Step>(text: string, file: string, opts: GamedayOptions): Plan<S> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const hint = text.includes('${') ? ' (quote a ${VAR} inside {...} or [...]: "${VAR}")' : '';
    throw new UserError(`${file} is not valid YAML: ${yamlErrorLine(err)}${hint}`, EXIT.badInput);
  }
  const filled = substitute(doc, opts.vars ?? {}, opts.env ?? process.env, file);
  const parsed = (opts.steps ? experimentSchemaFor(opts.steps) : experimentSchema).safeParse(filled);
  if (!parsed.success) throw new UserError(`${file}: ${firstIssue(parsed.error)}`, EXIT.badInput);
  const e = parsed.data;
  const namespace = opts.namespace ?? e.namespace;
  if (!namespace) throw new UserError(`${file}: no namespace: pass -n/--namespace (or set namespace: in the file)`, EXIT.badInput);
  return { ...e, method: e.method as S[], namespace, command: `gameday ${file}` };
}
