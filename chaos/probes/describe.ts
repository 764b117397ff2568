import type { ProbeSpec } from '../plan.ts';
import { describeLoadBudget } from './http.ts';
import { describeKubernetesProbe } from './kubernetes.ts';
import { describePrometheusProbe } from './prometheus.ts';

/** One line for a probe in the plan: its name and what it checks. */
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
