import { ENV, type AppMode } from '../lib/defaults.ts';
import { describeError } from '../lib/errors.ts';
import { connectKube, type EnvValues } from '../lib/kube.ts';
import type { Logger } from '../lib/log.ts';
import { waitForHttp } from '../lib/net.ts';
import type { ModeProvider } from './compare.ts';

// The third way to get both modes: one myhero-app Deployment, switched between
// direct and queue by setting `myhero_app_mode` in its pod template (a rollout),
// and put back the way it was afterwards — also after a failure or Ctrl-C.
// Queue mode needs myhero-mosca and myhero-ernst deployed, as in the manifests.

export interface K8sModeOptions {
  /** Where the app is reached from here (NodePort, ingress, port-forward). */
  target: string;
  namespace: string;
  deployment: string;
  container?: string;
  kubeconfig?: string;
  context?: string;
  rolloutTimeoutMs: number;
  log: Logger;
}

/** The app's mode as its env says; unset means direct, the app's default. */
const modeOf = (env: EnvValues): AppMode => (env[ENV.appMode] === 'queue' ? 'queue' : 'direct');

export async function k8sModes(opts: K8sModeOptions): Promise<ModeProvider> {
  const kube = connectKube({ ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}) });
  const { namespace, deployment } = opts;
  // Read first: a missing Deployment or permission fails here, before anything changes.
  const d = await kube.getDeployment(namespace, deployment);
  const containers = d.spec?.template.spec?.containers ?? [];
  const container = opts.container ? containers.find((c) => c.name === opts.container) : containers[0];
  if (!container) throw new Error(`deployment ${namespace}/${deployment} has no container ${opts.container ?? ''}`.trim());
  const original: EnvValues = { [ENV.appMode]: container.env?.find((e) => e.name === ENV.appMode)?.value };
  /** The value in the pod template now (undefined = unset). */
  let value = original[ENV.appMode];

  const rollout = (signal?: AbortSignal) =>
    kube.waitForRollout(namespace, deployment, {
      timeoutMs: opts.rolloutTimeoutMs,
      ...(signal ? { signal } : {}),
      onProgress: (s) => opts.log.debug({ deployment, rollout: s.message }, 'waiting for rollout'),
    });

  return {
    describe: { source: `Kubernetes Deployment ${namespace}/${deployment}`, target: opts.target, originalMode: original[ENV.appMode] ?? '(unset: direct)' },
    async acquire(mode, signal) {
      if (mode !== modeOf({ [ENV.appMode]: value })) {
        opts.log.info({ deployment, namespace, mode }, `setting ${ENV.appMode}=${mode}`);
        value = mode;
        await kube.setDeploymentEnv(namespace, deployment, { [ENV.appMode]: mode }, container.name);
        await rollout(signal);
        // The Service may still be switching endpoints: wait until the app answers again.
        await waitForHttp(`${opts.target}/health`, opts.rolloutTimeoutMs, signal ? { signal } : undefined);
      }
      return { target: opts.target, conditions: { deployment: `${namespace}/${deployment}` } };
    },
    async close(interrupted) {
      if (value === original[ENV.appMode]) return;
      value = original[ENV.appMode];
      opts.log.info({ deployment, namespace, value: original[ENV.appMode] ?? null }, `restoring ${ENV.appMode}`);
      await kube.setDeploymentEnv(namespace, deployment, original, container.name);
      // The patch is the restore; after Ctrl-C, or when the rollout it starts stalls, the cluster finishes it.
      if (interrupted) return;
      await rollout().catch((err: unknown) => opts.log.warn({ deployment, err: describeError(err) }, `restored ${ENV.appMode}; its rollout has not completed`));
    },
  };
}
