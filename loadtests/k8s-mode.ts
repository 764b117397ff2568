import { setTimeout as sleep } from 'node:timers/promises';
import { ENV, type AppMode } from '../lib/defaults.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { Kube, connectKube, envPatch, type V1EnvVar } from '../lib/kube.ts';
import { checkNamespace, connectionLine, type NamespaceRules } from '../lib/kube-safety.ts';
import type { Logger } from '../lib/log.ts';
import { pendingRestore } from '../lib/restore.ts';
import type { ModeProvider } from './compare.ts';

// The third way to get both modes: one myhero-app Deployment, switched between
// direct and queue by setting `myhero_app_mode` in its pod template (a rollout),
// and put back exactly as it was afterwards (the whole EnvVar, `valueFrom`
// included) — also after a failure or Ctrl-C. Behind the same rails as chaos: the
// namespace allowlist, a dry run, the context and server printed before the first
// write, and a variable that comes from a ConfigMap or Secret left alone unless
// forced. Queue mode needs myhero-mosca and myhero-ernst deployed, as in the manifests.

export interface K8sModeOptions {
  /** Where the app is reached from here (NodePort, ingress, port-forward). */
  target: string;
  namespace: string;
  deployment: string;
  container?: string;
  kubeconfig?: string;
  context?: string;
  rolloutTimeoutMs: number;
  namespaceRules: NamespaceRules;
  /** Replace a `valueFrom` myhero_app_mode with literal values for the run (restored afterwards). */
  force: boolean;
  /** After a rollout, how long the app must answer every check before the load starts (endpoints propagate). */
  settleMs?: number;
  log: Logger;
}

/** Endpoint changes reach kube-proxy about a second or more after a rollout: the app must answer steadily this long. */
const SETTLE_MS = 2000;

/** Wait until `url` has answered every check (below 500) for `settleMs` in a row. */
async function answersSteadily(url: string, settleMs: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let since = Date.now();
  let last = 'no answer';
  while (Date.now() - since < settleMs) {
    signal?.throwIfAborted();
    if (Date.now() > deadline) throw new UserError(`${url} did not answer steadily for ${settleMs / 1000} s within ${timeoutMs / 1000} s after the rollout: ${last}`);
    const ok = await fetch(url, { signal: AbortSignal.any([AbortSignal.timeout(1000), ...(signal ? [signal] : [])]) }).then(
      async (r) => {
        await r.arrayBuffer();
        last = `HTTP ${r.status}`;
        return r.status < 500;
      },
      (err: unknown) => {
        last = describeError(err);
        return false;
      },
    );
    if (!ok) since = Date.now();
    await sleep(50, undefined, signal ? { signal } : undefined);
  }
}

export interface K8sModes {
  /** What the run will change, and how it is undone: printed before the first write, and all a dry run does. */
  plan: string[];
  provider(): ModeProvider;
}

/** The app's mode as its env entry says; unset means direct (the app's default); from a ConfigMap/Secret it is unknown. */
const modeOf = (e: V1EnvVar | undefined): AppMode | undefined => (e?.valueFrom ? undefined : e?.value === 'queue' ? 'queue' : 'direct');

const describeEntry = (e: V1EnvVar | undefined): string => {
  if (!e) return '(unset: direct)';
  if (!e.valueFrom) return e.value ?? '';
  const f = e.valueFrom;
  const ref = f.configMapKeyRef ? `ConfigMap ${f.configMapKeyRef.name} key ${f.configMapKeyRef.key}` : f.secretKeyRef ? `Secret ${f.secretKeyRef.name} key ${f.secretKeyRef.key}` : 'a field or resource reference';
  return `${ref} (valueFrom)`;
};

/**
 * Check the rails and read the Deployment (no write): the namespace rules, the
 * container, the variable as it is now. Refuses a `valueFrom` variable unless forced.
 */
export async function prepareK8sModes(opts: K8sModeOptions): Promise<K8sModes> {
  const namespace = checkNamespace(opts.namespace, opts.namespaceRules);
  const kube = connectKube({ ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}) });
  const { deployment } = opts;
  // Read first: a missing Deployment or permission fails here, before anything changes.
  const d = await kube.getDeployment(namespace, deployment);
  const container = Kube.containerOf(d, opts.container);
  const initial = Kube.envOf(d, container, [ENV.appMode])[ENV.appMode];
  if (initial?.valueFrom && !opts.force) {
    throw new UserError(
      `refusing to switch ${ENV.appMode} of deployment ${namespace}/${deployment}: it comes from ${describeEntry(initial)}; pass --force to set literal values for the run (the reference is restored afterwards)`,
      EXIT.badInput,
    );
  }
  const restoreCommand = (e: V1EnvVar | undefined) => kube.kubectlPatchDeployment(namespace, deployment, envPatch(container, { [ENV.appMode]: e }));
  const plan = [
    connectionLine(kube, namespace),
    `will set ${ENV.appMode} to direct and to queue on deployment ${deployment} (container ${container}; now ${describeEntry(initial)}), each a rollout,`,
    `and put it back afterwards (also on failure or Ctrl-C); by hand: ${restoreCommand(initial)}`,
  ];
  return { plan, provider: () => provider(kube, namespace, container, initial, restoreCommand, opts) };
}

function provider(
  kube: Kube,
  namespace: string,
  container: string,
  initial: V1EnvVar | undefined,
  restoreCommand: (e: V1EnvVar | undefined) => string,
  opts: K8sModeOptions,
): ModeProvider {
  const { deployment, log } = opts;
  /** What the pod template held before our first write: exactly what that write replaced. */
  let original = initial;
  /** The entry in the pod template now, as far as the API has accepted our writes. */
  let current = initial;
  let switched = false;
  /** Registered while the template differs from the original: the command printed on a forced exit. */
  let pending: (() => void) | undefined;
  /** A literal entry equal to the original needs no restore; a reference never equals a literal. */
  const isOriginal = (e: V1EnvVar | undefined) => (!e && !original) || (!!e && !!original && !e.valueFrom && !original.valueFrom && e.value === original.value);

  const rollout = (signal?: AbortSignal) =>
    kube.waitForRollout(namespace, deployment, {
      timeoutMs: opts.rolloutTimeoutMs,
      ...(signal ? { signal } : {}),
      onProgress: (s) => log.debug({ deployment, rollout: s.message }, 'waiting for rollout'),
    });

  return {
    describe: { source: `Kubernetes Deployment ${namespace}/${deployment}`, target: opts.target, originalMode: describeEntry(initial), context: kube.context, server: kube.server },
    async acquire(mode, signal) {
      if (mode !== modeOf(current)) {
        log.info({ deployment, namespace, mode }, `setting ${ENV.appMode}=${mode}`);
        const previous = await kube.setDeploymentEnv(namespace, deployment, { [ENV.appMode]: mode }, { container, replaceValueFrom: opts.force, ...(signal ? { signal } : {}) });
        // Recorded only now that the API accepted it.
        if (!switched) original = previous[ENV.appMode];
        switched = true;
        current = { name: ENV.appMode, value: mode };
        if (isOriginal(current)) {
          pending?.();
          pending = undefined;
        } else pending ??= pendingRestore(restoreCommand(original));
        await rollout(signal);
        // The Service may still route to the old pods for a moment: wait until the app answers steadily.
        await answersSteadily(`${opts.target}/health`, opts.settleMs ?? SETTLE_MS, opts.rolloutTimeoutMs, signal);
      }
      return { target: opts.target, conditions: { deployment: `${namespace}/${deployment}` } };
    },
    async close(interrupted) {
      if (isOriginal(current)) return;
      log.info({ deployment, namespace, value: describeEntry(original) }, `restoring ${ENV.appMode}`);
      try {
        await kube.restoreDeploymentEnv(namespace, deployment, { [ENV.appMode]: original }, { container, signal: AbortSignal.timeout(opts.rolloutTimeoutMs) });
      } catch (err) {
        throw new UserError(`could not restore ${ENV.appMode} of deployment ${namespace}/${deployment}: ${describeError(err)}; restore by hand: ${restoreCommand(original)}`);
      }
      current = original;
      pending?.();
      pending = undefined;
      // The patch is the restore; after Ctrl-C, or when the rollout it starts stalls, the cluster finishes it.
      if (interrupted) return;
      await rollout().catch((err: unknown) => log.warn({ deployment, err: describeError(err) }, `restored ${ENV.appMode}; its rollout has not completed`));
    },
  };
}
