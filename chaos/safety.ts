import { UserError } from '../lib/errors.ts';
import type { V1Node, V1Pod } from '../lib/kube.ts';
import { nodeReady, podTerminating } from '../lib/kube.ts';

// Safety rails in kube-monkey's spirit: an explicit namespace on an allowlist,
// system namespaces only with --force, a blast radius that never exceeds the
// requested count or percent, and never the last Ready node. Pure functions, so
// every refusal is testable without a cluster.

/** Namespaces that run the cluster or its add-ons: refused unless forced. */
export const SYSTEM_NAMESPACES = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'kube-flannel',
  'local-path-storage',
  'cattle-system',
  'longhorn-system',
  'cert-manager',
  'ingress-nginx',
  'istio-system',
  'monitoring',
  'gke-managed-system',
] as const;

/** The namespaces allowed when none are configured: the tutorial's and a dedicated one. */
export const DEFAULT_ALLOWED_NAMESPACES = ['default', 'myhero'] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isSystemNamespace(ns: string): boolean {
  return (SYSTEM_NAMESPACES as readonly string[]).includes(ns) || ns.startsWith('kube-');
}

/** Refuse a missing, malformed, system or not-allowed namespace, with the flag that would change the answer. */
export function checkNamespace(ns: string, opts: { allowed: readonly string[]; force: boolean }): string {
  if (!ns) throw new UserError('--namespace is required: chaos never guesses where to act (e.g. -n default)', 2);
  if (!DNS_LABEL.test(ns)) throw new UserError(`invalid --namespace "${ns}": expected a Kubernetes namespace name`, 2);
  if (isSystemNamespace(ns)) {
    if (!opts.force) throw new UserError(`refusing to act in system namespace "${ns}" (pass --force if you really mean it)`, 2);
    return ns;
  }
  if (!opts.allowed.includes(ns) && !opts.force) {
    throw new UserError(`namespace "${ns}" is not in the chaos allowlist (${opts.allowed.join(', ')}); add it with --allow-namespaces`, 2);
  }
  return ns;
}

/** How many of a selector's pods to hit: Chaos Mesh's `fixed` (count) or `fixed-percent` (percent) modes. */
export type BlastRadius = { count: number } | { percent: number };

/** The number of victims among `available` pods; never more than asked, never zero silently. */
export function victimCount(radius: BlastRadius, available: number): number {
  if (available === 0) return 0;
  if ('count' in radius) return Math.min(radius.count, available);
  return Math.floor((radius.percent / 100) * available);
}

/** Random choice without replacement (`random` is injectable so tests can pin it). */
export function pickRandom<T>(items: readonly T[], n: number, random: () => number = Math.random): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out;
}

/** Pick the pods to kill among the selector's live (non-terminating) pods, within the blast radius. */
export function pickVictimPods(pods: readonly V1Pod[], radius: BlastRadius, selector: string, random?: () => number): V1Pod[] {
  const live = pods.filter((p) => !podTerminating(p));
  if (live.length === 0) throw new UserError(`no running pods match selector ${selector}`);
  const n = victimCount(radius, live.length);
  if (n === 0) {
    const pct = 'percent' in radius ? radius.percent : 0;
    throw new UserError(`--percent ${pct} of ${live.length} pods selects none (rounds down); raise it or use --count`, 2);
  }
  return pickRandom(live, n, random);
}

export const isControlPlane = (n: V1Node): boolean => {
  const labels = n.metadata?.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
};

/**
 * Refuse to take down a node when it is the last Ready one, or a control-plane
 * node (on k3s that is the API server itself) unless forced.
 */
export function checkNodeVictim(nodes: readonly V1Node[], name: string, opts: { force: boolean }): V1Node {
  const node = nodes.find((n) => n.metadata?.name === name);
  if (!node) throw new UserError(`node "${name}" does not exist (nodes: ${nodes.map((n) => n.metadata?.name).join(', ')})`, 2);
  const otherReady = nodes.filter((n) => n.metadata?.name !== name && nodeReady(n) && !n.spec?.unschedulable);
  if (otherReady.length === 0) throw new UserError(`refusing to take down node "${name}": it is the last Ready schedulable node`, 2);
  if (isControlPlane(node) && !opts.force) {
    throw new UserError(`refusing to take down control-plane node "${name}" (it serves the API this tool needs; pass --force)`, 2);
  }
  return node;
}

/** A random node that may be taken down: Ready, not control-plane, and not the last Ready one. */
export function pickVictimNode(nodes: readonly V1Node[], opts: { force: boolean }, random?: () => number): V1Node {
  const candidates = nodes.filter((n) => nodeReady(n) && !n.spec?.unschedulable && (opts.force || !isControlPlane(n)));
  const ready = nodes.filter((n) => nodeReady(n) && !n.spec?.unschedulable);
  if (candidates.length === 0 || ready.length < 2) {
    throw new UserError(`no node can be taken down safely: ${ready.length} Ready schedulable node(s), ${candidates.length} eligible`, 2);
  }
  return pickRandom(candidates, 1, random)[0]!;
}

/** Node names go into a shell hook: accept only what Kubernetes accepts (DNS-1123 subdomain). */
export function assertSafeNodeName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new UserError(`node name "${name}" is not a valid Kubernetes node name`, 2);
  return name;
}
