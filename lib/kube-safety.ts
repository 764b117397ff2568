import { setting } from './config.ts';
import { EXIT, UserError } from './errors.ts';
import type { Kube } from './kube.ts';
import { bool, list, string } from './parse.ts';

// The rails every command that changes a cluster runs behind (chaos and
// `loadtest compare --k8s`), in kube-monkey's spirit: an explicit namespace on an
// allowlist, system namespaces only with their own override, and the context and
// server printed before the first write so nobody changes the wrong cluster.

/** Namespaces that run the cluster or its add-ons. */
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

export interface NamespaceRules {
  /** Namespaces a command may change (`--allow-namespaces`). */
  allowed: readonly string[];
  /** `--allow-system-namespaces`: lift the system-namespace refusal (the allowlist still applies). */
  allowSystem: boolean;
}

/** The flags of the namespace rules, declared once for every command that writes to a cluster. */
export const namespaceSettings = {
  allowNamespaces: setting({
    flag: '--allow-namespaces <list>',
    describe: 'namespaces this command may change',
    default: [...DEFAULT_ALLOWED_NAMESPACES] as string[],
    parse: list(string),
    env: ['MYHERO_CHAOS_NAMESPACES'],
  }),
  allowSystemNamespaces: setting({
    flag: '--allow-system-namespaces',
    describe: `also allow system namespaces (${SYSTEM_NAMESPACES.slice(0, 3).join(', ')}, …) when they are on the allowlist`,
    default: false,
    parse: bool,
  }),
};

/** Refuse a missing, malformed, system or not-allowed namespace, naming the flag that would change the answer. */
export function checkNamespace(ns: string, rules: NamespaceRules): string {
  if (!ns) throw new UserError('--namespace is required: a command that changes a cluster never guesses where (e.g. -n default)', EXIT.badInput);
  if (!DNS_LABEL.test(ns)) throw new UserError(`invalid --namespace "${ns}": expected a Kubernetes namespace name`, EXIT.badInput);
  if (isSystemNamespace(ns) && !rules.allowSystem) {
    throw new UserError(`refusing to act in system namespace "${ns}" (pass --allow-system-namespaces and add it to --allow-namespaces if you really mean it)`, EXIT.badInput);
  }
  if (!rules.allowed.includes(ns)) {
    throw new UserError(`namespace "${ns}" is not in the allowlist (${rules.allowed.join(', ')}); add it with --allow-namespaces`, EXIT.badInput);
  }
  return ns;
}

/** The line printed before the first write: which cluster is about to change. */
export function connectionLine(kube: Pick<Kube, 'context' | 'server'>, namespace: string): string {
  return `Kubernetes: context "${kube.context}", server ${kube.server}, namespace ${namespace}`;
}
