import { EXIT, UserError } from '../lib/errors.ts';
import type { V1Node, V1Pod } from '../lib/kube.ts';
import { nodeReady, podTerminating } from '../lib/kube.ts';

// Safety rails in kube-monkey's spirit (the namespace rules are in
// lib/kube-safety.ts, shared with compare --k8s): a blast radius that never
// exceeds the requested count or percent, never the last Ready node, a
// control-plane node only with --allow-control-plane. Pure functions, so every
// refusal is testable without a cluster.

/** How many of a selector's pods to hit: Chaos Mesh's `fixed` (count) or `fixed-percent` (percent) modes. */
export type BlastRadius = { count: number } | { percent: number };

/** The number of victims among `available` pods; never more than asked, never zero silently. */
export function victimCount(radius: BlastRadius, available: number): number {
  if (available === 0) return 0;
  if ('count' in radius) return Math.min(Math.floor(radius.count), available);
  return Math.floor((radius.percent / 100) * available);
}

/** Random choice of exactly `n` (a whole number) without replacement (`random` is injectable so tests can pin it). */
export function pickRandom<T>(items: readonly T[], n: number, random: () => number = Math.random): T[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`pickRandom needs a whole number of items, got ${n}`);
  const pool = [...items];
  const out: T[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0]!);
  return out;
}

/** Pick the pods to kill among the selector's live (non-terminating) pods, within the blast radius. */
export function pickVictimPods(pods: readonly V1Pod[], radius: BlastRadius, selector: string, random?: () => number): V1Pod[] {
  const live = pods.filter((p) => !podTerminating(p));
  if (live.length === 0) throw new UserError(`no running pods match selector ${selector}`, EXIT.badInput);
  const n = victimCount(radius, live.length);
  if (n === 0) {
    const pct = 'percent' in radius ? radius.percent : 0;
    throw new UserError(`--percent ${pct} of ${live.length} pods selects none (rounds down); raise it or use --count`, EXIT.badInput);
  }
  return pickRandom(live, n, random);
}

export const isControlPlane = (n: V1Node): boolean => {
  const labels = n.metadata?.labels ?? {};
  return 'node-role.kubernetes.io/control-plane' in labels || 'node-role.kubernetes.io/master' in labels;
};

export interface NodeRules {
  /** `--allow-control-plane`: a control-plane node may be taken down (on k3s it serves the API itself). */
  allowControlPlane: boolean;
}

/**
 * Refuse to take down a node when it is the last Ready one, or a control-plane
 * node (on k3s that is the API server itself) unless allowed.
 */
export function checkNodeVictim(nodes: readonly V1Node[], name: string, rules: NodeRules): V1Node {
  const node = nodes.find((n) => n.metadata?.name === name);
  if (!node) throw new UserError(`node "${name}" does not exist (nodes: ${nodes.map((n) => n.metadata?.name).join(', ')})`, EXIT.badInput);
  const otherReady = nodes.filter((n) => n.metadata?.name !== name && nodeReady(n) && !n.spec?.unschedulable);
  if (otherReady.length === 0) throw new UserError(`refusing to take down node "${name}": it is the last Ready schedulable node`, EXIT.badInput);
  if (isControlPlane(node) && !rules.allowControlPlane) {
    throw new UserError(`refusing to take down control-plane node "${name}" (it serves the API this tool needs; pass --allow-control-plane)`, EXIT.badInput);
  }
  return node;
}

/** A random node that may be taken down: Ready, not control-plane (unless allowed), and not the last Ready one. */
export function pickVictimNode(nodes: readonly V1Node[], rules: NodeRules, random?: () => number): V1Node {
  const candidates = nodes.filter((n) => nodeReady(n) && !n.spec?.unschedulable && (rules.allowControlPlane || !isControlPlane(n)));
  const ready = nodes.filter((n) => nodeReady(n) && !n.spec?.unschedulable);
  if (candidates.length === 0 || ready.length < 2) {
    throw new UserError(`no node can be taken down safely: ${ready.length} Ready schedulable node(s), ${candidates.length} eligible`, EXIT.badInput);
  }
  return pickRandom(candidates, 1, random)[0]!;
}

/** Node names go into a shell hook: accept only what Kubernetes accepts (DNS-1123 subdomain). */
export function assertSafeNodeName(name: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) throw new UserError(`node name "${name}" is not a valid Kubernetes node name`, EXIT.badInput);
  return name;
}
