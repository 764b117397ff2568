import type { LoadPlan } from '../loadtests/engine.ts';
import { describePodKill, type PodKillSpec } from './actions/podKill.ts';
import type { DrainSpec } from './actions/nodeDrain.ts';
import { describeNodeKill, type NodeKillSpec } from './actions/nodeKill.ts';
import { describeLoadBudget, type HttpCheckSpec, type LoadBudgetSpec } from './probes/http.ts';
import { describeKubernetesProbe, type KubernetesProbeSpec } from './probes/kubernetes.ts';
import { describePrometheusProbe, type PrometheusProbeSpec } from './probes/prometheus.ts';

// A plan is the whole run as data, built from flags or a game-day file before
// anything touches the cluster: steady-state hypothesis, method, verdict probes.
// `--dry-run` prints it (and the concrete targets it resolves read-only).

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

export type Step =
  | { kind: 'pod-kill'; spec: PodKillSpec; everyMs?: number; forMs?: number }
  | { kind: 'node-drain'; spec: DrainSpec; holdMs: number }
  | { kind: 'node-kill'; spec: NodeKillSpec }
  | { kind: 'rollout-restart'; deployment: string; withinMs: number }
  | { kind: 'remove-readiness-probe'; deployment: string }
  | { kind: 'pause'; ms: number }
  | { kind: 'wait-for'; probe: ProbeSpec; withinMs: number }
  | { kind: 'start-load' }
  | { kind: 'stop-load' }
  /** After load: CPU below target, then scale-down after the stabilisation window (waited only within `withinMs`). */
  | { kind: 'hpa-scale-down'; hpa: string; metricWithinMs: number; withinMs?: number };

/** The background load of a game day; the key is resolved at run time and never stored in the plan. */
export type LoadSpec = Omit<LoadPlan, 'key'>;

export interface Plan {
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
  method: Step[];
  probes: ProbeSpec[];
}

const secs = (ms: number): string => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : `${+(ms / 1000).toFixed(2)}s`);

export function describeProbe(p: ProbeSpec): string {
  const what = p.kubernetes
    ? describeKubernetesProbe(p.kubernetes)
    : p.http
      ? `GET ${p.http.url} answers ${p.http.status ?? 200}`
      : p.prometheus
        ? describePrometheusProbe(p.prometheus)
        : p.load
          ? describeLoadBudget(p.load)
          : 'nothing';
  return `${p.name}: ${what}${p.mode === 'continuous' ? ' (throughout the method)' : ''}`;
}

export function describeStep(s: Step): string {
  switch (s.kind) {
    case 'pod-kill':
      return `${describePodKill(s.spec)}${s.everyMs ? `, every ${secs(s.everyMs)} for ${secs(s.forMs ?? 0)}` : ''}`;
    case 'node-drain':
      return `drain node ${s.spec.node} (cordon, evict pods through the Eviction API, PDBs respected, 429s retried every ${secs(s.spec.retryMs)} up to ${secs(s.spec.evictionTimeoutMs)})${s.holdMs ? `, hold ${secs(s.holdMs)}` : ''}, uncordon on rollback`;
    case 'node-kill':
      return describeNodeKill(s.spec);
    case 'rollout-restart':
      return `rollout restart deployment ${s.deployment}, wait up to ${secs(s.withinMs)} for it`;
    case 'remove-readiness-probe':
      return `remove the readiness probe of deployment ${s.deployment} (restored on rollback)`;
    case 'pause':
      return `pause ${secs(s.ms)}`;
    case 'wait-for':
      return `wait up to ${secs(s.withinMs)} for ${describeProbe(s.probe)}`;
    case 'start-load':
      return 'start the background load';
    case 'stop-load':
      return 'stop the background load';
    case 'hpa-scale-down':
      return `after the load: hpa ${s.hpa} CPU below target within ${secs(s.metricWithinMs)}, then scale-down after its stabilisation window${s.withinMs ? ` (waited up to ${secs(s.withinMs)})` : ' (not waited for: reported as not observed)'}`;
  }
}

export function describePlan(p: Plan): string[] {
  const lines = [`${p.title} — namespace ${p.namespace}`];
  if (p.load) {
    const m = p.load.model;
    const level = m.kind === 'open' ? `${m.rate} votes/s (open model)` : `${m.voters} voters (closed model)`;
    lines.push(`load: ${level} against ${p.load.target}, at most ${secs(p.load.durationMs)}`);
  }
  if (p.steadyState.length) lines.push('steady state (before and after):', ...p.steadyState.map((x) => `  - ${describeProbe(x)}`));
  lines.push('method:', ...p.method.map((s, i) => `  ${i + 1}. ${describeStep(s)}`));
  if (p.probes.length) lines.push('verdict probes:', ...p.probes.map((x) => `  - ${describeProbe(x)}`));
  lines.push('rollbacks: always run (success, failure, timeout, Ctrl-C)');
  return lines;
}
