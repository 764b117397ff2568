import { z } from 'zod';
import type { ProbeSpec } from '../plan.ts';
import type { KubernetesProbeSpec } from '../probes/kubernetes.ts';
import { duration, httpUrl, mapping, objectName, text, threshold, wholeNumber } from './fields.ts';

// Probes in experiment files (LitmusChaos's kinds): what the steady-state
// hypothesis, a `wait-for` step and the verdicts check. One schema per probe kind.

const KUBERNETES_SHAPES = '{deployment, readyReplicas}, {hpa, replicas}, {hpa, scalingActive} or {rollout}';

export const kubernetesProbe = mapping({
  deployment: objectName.optional(),
  readyReplicas: threshold.optional(),
  hpa: objectName.optional(),
  replicas: threshold.optional(),
  scalingActive: z.boolean({ error: 'expected true or false' }).optional(),
  rollout: objectName.optional(),
})
  .meta({
    id: 'kubernetes-probe',
    description: `one of ${KUBERNETES_SHAPES}`,
    oneOf: [{ required: ['deployment', 'readyReplicas'] }, { required: ['hpa', 'replicas'] }, { required: ['hpa', 'scalingActive'] }, { required: ['rollout'] }],
  })
  .transform((k, ctx): KubernetesProbeSpec => {
    const keys = Object.keys(k).sort().join(',');
    if (keys === 'deployment,readyReplicas') return { deployment: k.deployment!, readyReplicas: k.readyReplicas! };
    if (keys === 'hpa,replicas') return { hpa: k.hpa!, replicas: k.replicas! };
    if (keys === 'hpa,scalingActive') return { hpa: k.hpa!, scalingActive: k.scalingActive! };
    if (keys === 'rollout') return { rollout: k.rollout! };
    ctx.issues.push({ code: 'custom', input: k, message: `expected ${KUBERNETES_SHAPES}` });
    return z.NEVER;
  });

export const httpProbe = mapping({
  url: httpUrl,
  status: wholeNumber(100, 599).optional(),
  timeout: duration(1).optional(),
})
  .meta({ id: 'http-probe' })
  .transform((h) => ({ url: h.url, status: h.status, timeoutMs: h.timeout }));

export const prometheusProbe = mapping({
  url: httpUrl,
  query: text,
  expect: threshold.optional(),
  within: duration().optional(),
})
  .meta({ id: 'prometheus-probe' })
  .transform((q) => ({ url: q.url, query: q.query, expect: q.expect, withinMs: q.within }));

export const loadBudget = mapping({ errorRate: threshold.optional(), p99Ms: threshold.optional() })
  .meta({ id: 'load-budget', minProperties: 1 })
  .refine((l) => l.errorRate !== undefined || l.p99Ms !== undefined, { error: 'needs errorRate or p99Ms' });

const PROBE_KINDS = ['kubernetes', 'http', 'prometheus', 'load'] as const;

/** Probe kinds a probe has, checked to be exactly one. */
function oneKind(kinds: readonly string[]) {
  return (p: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
    const found = kinds.filter((k) => p[k] !== undefined);
    if (found.length !== 1) ctx.addIssue({ code: 'custom', input: p, message: `needs exactly one of ${kinds.join(', ')}${found.length ? ` (found ${found.join(', ')})` : ''}` });
  };
}

const probeFields = {
  name: text,
  kubernetes: kubernetesProbe.optional(),
  http: httpProbe.optional(),
  prometheus: prometheusProbe.optional(),
};

const toSpec = (p: ProbeSpec): ProbeSpec => p;

const mode = z.enum(['continuous', 'end'], { error: 'expected continuous or end' }).optional();

/** A steady-state probe: checked before the method and again after it. */
export const hypothesisProbe = mapping({ ...probeFields, mode })
  .meta({ id: 'steady-state-probe' })
  .superRefine(oneKind(PROBE_KINDS.filter((k) => k !== 'load')))
  .transform(toSpec);

/** A verdict probe: like a steady-state probe, or a budget on the background load. */
export const verdictProbe = mapping({ ...probeFields, mode, load: loadBudget.optional() })
  .meta({ id: 'verdict-probe' })
  .superRefine(oneKind(PROBE_KINDS))
  .transform(toSpec);

/** The probe of a `wait-for` step, with how long it may take to hold. */
export const waitForProbe = mapping({ ...probeFields, within: duration() })
  .superRefine(oneKind(PROBE_KINDS.filter((k) => k !== 'load')))
  .transform(({ within, ...p }) => ({ probe: toSpec(p), withinMs: within }));
