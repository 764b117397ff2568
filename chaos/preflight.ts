import type { V1Container } from '@kubernetes/client-node';
import type { Kube, V1Deployment, V1Namespace, V1Pod, V2HorizontalPodAutoscaler, V1PodDisruptionBudget } from '../lib/kube.ts';
import { ISTIO_GROUP, checkMeshNamespace, checkMeshPods } from './mesh.ts';

// Preflight: read the myhero workloads and say what a game day would expose,
// with the reason and the fix — before anything is broken on purpose. The
// checks are a pure function of the objects read, so they test without a cluster.

export type Severity = 'fail' | 'warn' | 'ok';

export interface Finding {
  severity: Severity;
  /** e.g. `deployment/myhero-app` */
  object: string;
  check: string;
  message: string;
  fix?: string;
}

export interface Inventory {
  deployments: V1Deployment[];
  hpas: V2HorizontalPodAutoscaler[];
  pdbs: V1PodDisruptionBudget[];
  /** What http-fault needs of the mesh: Istio's API (discovery), the namespace's injection label, the pods. */
  mesh?: { istio?: { preferred: string; served: string[] }; namespace: V1Namespace; pods: V1Pod[] };
}

/** Tiers users reach (directly or through the app): an outage of these is an outage of myhero. */
const USER_FACING = new Set(['app', 'ui', 'spark']);

/** What losing the only pod of a stateful tier costs, in the myhero architecture. */
const STATEFUL_COST: Record<string, string> = {
  data: 'every vote fails in direct mode and ernst cannot drain the queue until it is rescheduled; votes.txt is lost with the pod unless it sits on a persistent volume',
  mosca: 'every vote fails in queue mode (the app opens an MQTT connection per vote) and retained votes ernst has not taken yet are lost unless the broker persists them',
};

const cpuMillis = (q: string | undefined): number | undefined =>
  q === undefined ? undefined : q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000;

/** The CPU request the scheduler and the HPA see: the request, or the limit it defaults to. */
export function effectiveCpuRequest(c: V1Container): { millis?: number; defaulted: boolean } {
  const req = c.resources?.requests?.cpu;
  if (req !== undefined) return { millis: cpuMillis(String(req)), defaulted: false };
  const lim = c.resources?.limits?.cpu;
  return { millis: cpuMillis(lim === undefined ? undefined : String(lim)), defaulted: lim !== undefined };
}

const labelsMatch = (sel: { matchLabels?: Record<string, string> } | undefined, labels: Record<string, string> | undefined) =>
  !!sel?.matchLabels && Object.entries(sel.matchLabels).every(([k, v]) => labels?.[k] === v);

function checkDeployment(d: V1Deployment, inv: Inventory): Finding[] {
  const name = d.metadata!.name!;
  const object = `deployment/${name}`;
  const tier = d.metadata?.labels?.tier ?? d.spec?.template.metadata?.labels?.tier ?? '';
  const podLabels = d.spec?.template.metadata?.labels;
  const containers = d.spec?.template.spec?.containers ?? [];
  const replicas = d.spec?.replicas ?? 1;
  const hpa = inv.hpas.find((h) => h.spec?.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name);
  const pdb = inv.pdbs.find((p) => labelsMatch(p.spec?.selector, podLabels));
  const out: Finding[] = [];
  const f = (severity: Severity, check: string, message: string, fix?: string) => out.push({ severity, object, check, message, fix });

  for (const c of containers) {
    const serves = (c.ports?.length ?? 0) > 0;
    if (serves && !c.readinessProbe) {
      f(
        'fail',
        'readiness-probe',
        `container ${c.name} has no readiness probe: new and restarting pods get traffic before the app answers, so requests fail during every rollout and pod replacement`,
        `add readinessProbe (httpGet ${tier === 'data' ? '/hero_list' : tier === 'mosca' ? 'tcpSocket 1883' : '/health'}) — chaos/manifests/`,
      );
    }
    if (serves && USER_FACING.has(tier) && !c.lifecycle?.preStop) {
      f(
        'warn',
        'prestop',
        `container ${c.name} has no preStop hook: a deleted pod stops at once, while the Service still sends it new connections until the endpoint change reaches kube-proxy (about a second), so those requests fail in every rollout and drain`,
        'add lifecycle.preStop (exec sleep 5) — chaos/manifests/',
      );
    }
    if (!c.livenessProbe) {
      f('warn', 'liveness-probe', `container ${c.name} has no liveness probe: a hung process is never restarted`, 'add livenessProbe — chaos/manifests/');
    }
    const cpu = effectiveCpuRequest(c);
    if (cpu.millis === undefined) {
      f(
        hpa || tier === 'app' ? 'fail' : 'warn',
        'cpu-request',
        `container ${c.name} has no CPU request${hpa ? `: HPA ${hpa.metadata?.name} cannot compute utilisation and will never scale` : ': a CPU HorizontalPodAutoscaler cannot work without one'}`,
        'set resources.requests.cpu — chaos/manifests/',
      );
    } else if (cpu.defaulted) {
      f('warn', 'cpu-request', `container ${c.name} has a CPU limit but no request: the request defaults to the limit (${cpu.millis}m), which the HPA's utilisation is measured against`, 'set an explicit resources.requests.cpu below the limit');
    }
  }

  const minReplicas = hpa?.spec?.minReplicas ?? 1;
  const floor = hpa ? minReplicas : replicas;
  if (USER_FACING.has(tier) && floor < 2) {
    f(
      'fail',
      'replicas',
      `${hpa ? `HPA ${hpa.metadata?.name} minReplicas is ${minReplicas}` : `runs ${replicas} replica`}: killing one pod or losing its node takes the ${tier} tier down`,
      hpa ? 'set the HPA minReplicas to 2 or more' : 'run at least 2 replicas (the HPA in chaos/manifests/ has min 2)',
    );
  }
  if (tier === 'app') {
    if (!hpa) {
      f('fail', 'hpa', 'no HorizontalPodAutoscaler: the app cannot absorb a surge of voters', 'apply the HPA in chaos/manifests/ (CPU target, min 2)');
    } else {
      const active = hpa.status?.conditions?.find((c) => c.type === 'ScalingActive');
      if (active?.status === 'False') f('fail', 'hpa', `HPA ${hpa.metadata?.name} is not scaling: ${active.reason}: ${active.message ?? ''}`.trim(), 'give every container a CPU request');
      if (!hpa.spec?.metrics?.some((m) => m.type === 'Resource' && m.resource?.name === 'cpu')) {
        f('warn', 'hpa', `HPA ${hpa.metadata?.name} has no CPU metric; the chaos HPA verdict judges CPU scaling`);
      }
    }
  }
  if (floor >= 2 || USER_FACING.has(tier)) {
    if (!pdb) {
      f('fail', 'pdb', 'no PodDisruptionBudget: a node drain may evict every replica at once', 'apply the PodDisruptionBudget in chaos/manifests/');
    } else {
      const minAvailable = pdb.spec?.minAvailable;
      const blocksAll = pdb.spec?.maxUnavailable === 0 || pdb.spec?.maxUnavailable === '0%' || (typeof minAvailable === 'number' && minAvailable >= floor) || minAvailable === '100%';
      if (blocksAll) {
        f('fail', 'pdb', `PodDisruptionBudget ${pdb.metadata?.name} allows no disruption at ${floor} replica(s): node drains will hang`, 'use maxUnavailable: 1 or a minAvailable below the replica count');
      }
    }
  }
  if (STATEFUL_COST[tier] && replicas < 2) {
    const volumes = d.spec?.template.spec?.volumes ?? [];
    const persistent = volumes.some((v) => v.persistentVolumeClaim);
    f('warn', 'single-stateful', `single replica of a stateful tier: if it is lost, ${STATEFUL_COST[tier]}${tier === 'data' && !persistent ? ' (no persistent volume mounted)' : ''}`, 'accept and measure it with chaos node-kill, or give it a persistent volume and a fast restart');
  }
  if (!out.some((x) => x.severity !== 'ok')) f('ok', 'all', 'probes, requests, replicas and budgets in place');
  return out;
}

/**
 * The mesh, for http-fault: warnings here (a game day without faults needs no Istio);
 * the same checks refuse an http-fault that cannot work.
 */
function checkMeshOf(inv: Inventory): Finding[] {
  if (!inv.mesh) return [];
  const { istio, namespace, pods } = inv.mesh;
  const podsOf = (d: V1Deployment) => pods.filter((p) => labelsMatch(d.spec?.selector, p.metadata?.labels));
  // A Deployment with no pods yet has no sidecars to check.
  const sidecars = istio
    ? inv.deployments.flatMap((d) => (podsOf(d).length ? checkMeshPods(d.metadata!.name!, namespace.metadata?.name ?? '?', podsOf(d)) : []))
    : [];
  return [...checkMeshNamespace(istio, namespace), ...sidecars].map((f) => ({
    ...f,
    severity: 'warn' as const,
    message: istio ? `http-fault: ${f.message}` : `${f.message}: chaos http-fault cannot run here`,
  }));
}

/** Every finding for the inventory, workloads in name order, then the mesh. */
export function checkInventory(inv: Inventory): Finding[] {
  if (inv.deployments.length === 0) return [{ severity: 'fail', object: '-', check: 'workloads', message: 'no myhero Deployments found (label app=myhero)', fix: 'check --namespace and --selector' }];
  return [
    ...[...inv.deployments].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!)).flatMap((d) => checkDeployment(d, inv)),
    ...checkMeshOf(inv),
  ];
}

export async function readInventory(kube: Kube, namespace: string, selector: string): Promise<Inventory> {
  const [deployments, hpas, pdbs, istio, ns, pods] = await Promise.all([
    kube.listDeployments(namespace, selector),
    kube.listHpas(namespace),
    kube.listPdbs(namespace),
    kube.apiGroup(ISTIO_GROUP),
    kube.getNamespace(namespace),
    kube.listPods(namespace, { labelSelector: selector }),
  ]);
  return { deployments, hpas, pdbs, mesh: { istio, namespace: ns, pods } };
}

/** The failing findings about one Deployment: the likely cause next to a failed verdict. */
export async function diagnose(kube: Kube, namespace: string, deployment: string): Promise<string[]> {
  const [d, hpas, pdbs] = await Promise.all([kube.getDeployment(namespace, deployment), kube.listHpas(namespace), kube.listPdbs(namespace)]);
  return checkDeployment(d, { deployments: [d], hpas, pdbs })
    .filter((f) => f.severity === 'fail')
    .map((f) => `${f.object}: ${f.message}`);
}

export function formatFindings(findings: Finding[]): string {
  const mark = { fail: 'FAIL', warn: 'WARN', ok: 'ok  ' } as const;
  const lines = findings.map((f) => `${mark[f.severity]}  ${f.object.padEnd(26)} ${f.message}${f.fix ? `\n      ${''.padEnd(26)} fix: ${f.fix}` : ''}`);
  const fails = findings.filter((f) => f.severity === 'fail').length;
  const warns = findings.filter((f) => f.severity === 'warn').length;
  lines.push('', fails ? `preflight: ${fails} failure(s), ${warns} warning(s)` : `preflight: passed with ${warns} warning(s)`);
  return lines.join('\n');
}
