import type { LoadPlan } from '../loadtests/engine.ts';
import { secs } from './context.ts';
import { describeProbe } from './probes/describe.ts';
import type { HttpCheckSpec, LoadBudgetSpec } from './probes/http.ts';
import type { KubernetesProbeSpec } from './probes/kubernetes.ts';
import type { PrometheusProbeSpec } from './probes/prometheus.ts';
import { STEPS, type Step, type StepRegistry } from './steps/index.ts';
import type { AnyStep } from './steps/step.ts';

// A plan is the whole run as data, built from flags or a game-day file before
// anything touches the cluster: steady-state hypothesis, method, verdict probes.
// `--dry-run` prints it (and the concrete targets it resolves read-only). The
// method's steps are `{ kind, spec }` of the kinds in the step registry (steps/).

export type { Step };

export interface ProbeSpec {
  name: string;
  kubernetes?: KubernetesProbeSpec;
  http?: HttpCheckSpec;
  prometheus?: PrometheusProbeSpec;
  /** Budgets on the background load (only in `probes`). */
  load?: LoadBudgetSpec;
  /**
   * When a verdict probe is judged: `continuous` every sample during the method
   * (fails on the first miss), `end` once after the method (default).
   */
  mode?: 'continuous' | 'end';
}

/** The background load of a game day; the key is resolved at run time and never stored in the plan. */
export type LoadSpec = Omit<LoadPlan, 'key'>;

export interface Plan<S extends AnyStep = Step> {
  title: string;
  description?: string;
  command: string;
  namespace: string;
  /** Objects sampled for the timeline. */
  observe: { deployment?: string; hpa?: string };
  load?: LoadSpec;
  /** Checked before the method (no chaos when it fails) and again after it. */
  steadyState: ProbeSpec[];
  /** How long the steady state may take to return after the method. */
  steadyStateRecoveryMs: number;
  method: S[];
  probes: ProbeSpec[];
}

export function describePlan(p: Plan<AnyStep>, steps: StepRegistry = STEPS): string[] {
  const lines = [`${p.title} — namespace ${p.namespace}`];
  if (p.load) {
    const m = p.load.model;
    const level = m.kind === 'open' ? `${m.rate} votes/s (open model)` : `${m.voters} voters (closed model)`;
    lines.push(`load: ${level} against ${p.load.target}, at most ${secs(p.load.durationMs)}`);
  }
  if (p.steadyState.length) lines.push('steady state (before and after):', ...p.steadyState.map((x) => `  - ${describeProbe(x)}`));
  lines.push('method:', ...p.method.map((s, i) => `  ${i + 1}. ${steps.get(s.kind).describe(s.spec)}`));
  if (p.probes.length) lines.push('verdict probes:', ...p.probes.map((x) => `  - ${describeProbe(x)}`));
  lines.push('rollbacks: always run (success, failure, timeout, Ctrl-C)');
  return lines;
}
