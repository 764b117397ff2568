import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  ApisApi,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  VersionApi,
  type ConfigurationOptions,
  type CoreV1Event,
  type V1Deployment,
  type V1EnvVar,
  type V2HorizontalPodAutoscaler,
  type V1Namespace,
  type V1Node,
  type V1Pod,
  type V1PodDisruptionBudget,
  type V1Service,
} from '@kubernetes/client-node';
import { EXIT, UserError, describeError } from './errors.ts';

// A thin wrapper over @kubernetes/client-node: one place that loads the
// kubeconfig, names each call by verb and resource, and turns API failures into
// one line a person can act on (a 403 names the missing verb and resource).
// Writes take an abort signal, so a rollback's time limit really limits it, and
// every change can be written down as the kubectl command that makes it.

export type { CoreV1Event, V1Deployment, V1EnvVar, V2HorizontalPodAutoscaler, V1Namespace, V1Node, V1Pod, V1PodDisruptionBudget, V1Service };

/** A custom resource type: its API group, the version to speak, and its plural (`virtualservices`). */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

/** A custom object as the API returns it: plain JSON. */
export interface CustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface KubeTarget {
  /** Explicit kubeconfig file; otherwise $KUBECONFIG, ~/.kube/config, then the in-cluster service account. */
  kubeconfig?: string;
  /** Context to use instead of the file's current-context. */
  context?: string;
}

/** An API call that failed, as one line; `status` is the HTTP code (0 when the API was not reached). */
export class KubeError extends UserError {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof KubeError && err.status === 404;

interface Call {
  verb: string;
  /** Resource as RBAC names it: `deployments`, `pods/eviction`, `nodes`. */
  resource: string;
  namespace?: string;
  name?: string;
}

/** Where a Role must grant the missing permission, pointed at from every 403. */
const RBAC_HINT = 'see chaos/rbac/';

function statusMessage(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    return (JSON.parse(body) as { message?: string }).message;
  } catch {
    return body.trim() ? body.trim().split('\n')[0] : undefined;
  }
}

/** One line for a failed call: 403 → the missing verb and resource; unreachable API → where it was looked for. */
export function kubeErrorLine(err: unknown, call: Call, server: string): KubeError {
  const scope = call.namespace ? `in namespace "${call.namespace}"` : 'at cluster scope';
  if (err instanceof ApiException) {
    const code = err.code;
    const detail = statusMessage(err.body);
    if (code === 403) return new KubeError(`forbidden: cannot ${call.verb} ${call.resource} ${scope} (${RBAC_HINT})`, 403);
    if (code === 401) return new KubeError(`unauthorized: the Kubernetes API at ${server} rejected the credentials (check the kubeconfig user or token)`, 401);
    if (code === 404) {
      const what = call.name ? `${call.resource} "${call.name}"` : call.resource;
      return new KubeError(`not found: ${what} ${scope}`, 404);
    }
    return new KubeError(`Kubernetes API ${code} on ${call.verb} ${call.resource} ${scope}: ${detail ?? 'no details'}`, code);
  }
  if (err instanceof KubeError) return err;
  // The caller's signal ended the call (a rollback's time limit, Ctrl-C): the API was reached, it had not answered yet.
  if ((err as Error | undefined)?.name === 'AbortError') {
    return new KubeError(`no answer from the Kubernetes API at ${server} to ${call.verb} ${call.resource} ${scope} before the call was given up (time limit or interrupt)`, 0);
  }
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  const why = code ?? describeError(err).split('\n')[0];
  return new KubeError(`cannot reach the Kubernetes API at ${server}: ${why}`, 0);
}

/** Load the kubeconfig the way kubectl finds it, or the in-cluster service account. */
export function loadKubeConfig(target: KubeTarget = {}, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (target.kubeconfig) {
      if (!existsSync(target.kubeconfig)) throw new UserError(`kubeconfig ${target.kubeconfig} does not exist`, 2);
      kc.loadFromFile(target.kubeconfig);
    } else if (env.KUBECONFIG || existsSync(join(homedir(), '.kube', 'config'))) {
      kc.loadFromDefault();
    } else if (env.KUBERNETES_SERVICE_HOST) {
      kc.loadFromCluster();
    } else {
      throw new UserError('no kubeconfig found: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod', 2);
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot load kubeconfig: ${describeError(err).split('\n')[0]}`, 2);
  }
  if (target.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new UserError(`kubeconfig has no context "${target.context}" (has: ${names.join(', ') || 'none'})`, 2);
    }
    kc.setCurrentContext(target.context);
  }
  if (!kc.getCurrentCluster()) throw new UserError(`kubeconfig context "${kc.getCurrentContext()}" names no cluster`, 2);
  return kc;
}

export interface RolloutOptions {
  timeoutMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  onProgress?: (state: RolloutState) => void;
}

export interface RolloutState {
  done: boolean;
  /** What `kubectl rollout status` would print. */
  message: string;
}

/** `kubectl rollout status` logic for a Deployment. */
export function rolloutState(d: V1Deployment): RolloutState {
  const name = d.metadata?.name;
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return { done: false, message: `Waiting for deployment spec update to be observed` };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, message: `deployment "${name}" exceeded its progress deadline` };
  const updated = s.updatedReplicas ?? 0;
  const replicas = s.replicas ?? 0;
  const available = s.availableReplicas ?? 0;
  if (updated < want) return { done: false, message: `${updated} out of ${want} new replicas have been updated` };
  if (replicas > updated) return { done: false, message: `${replicas - updated} old replicas are pending termination` };
  if (available < updated) return { done: false, message: `${available} of ${updated} updated replicas are available` };
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

/** The terms of a label selector: split at the commas between terms, not those inside `in (a,b)`. */
export function selectorTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      terms.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  terms.push(cur.trim());
  return terms;
}

export const podReady = (p: V1Pod): boolean => !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
export const nodeReady = (n: V1Node): boolean => !!n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
export const podTerminating = (p: V1Pod): boolean => !!p.metadata?.deletionTimestamp;

/** Env entries of one container, whole (`value` or `valueFrom`), by name; undefined = not set. */
export type EnvSnapshot = Record<string, V1EnvVar | undefined>;

/** `gone`: the pod no longer existed (404), which `kubectl drain` counts as evicted. */
export type EvictionResult = { evicted: true; gone?: boolean } | { evicted: false; reason: string };

/** A strategic merge patch that puts env entries back exactly as in `entries` (undefined removes one). */
export function envPatch(container: string, entries: EnvSnapshot, resourceVersion?: string): object {
  const env = Object.entries(entries).map(([name, e]) =>
    e === undefined ? { name, $patch: 'delete' } : { name, value: e.value ?? null, valueFrom: e.valueFrom ?? null },
  );
  return { ...(resourceVersion ? { metadata: { resourceVersion } } : {}), spec: { template: { spec: { containers: [{ name: container, env }] } } } };
}

/** A shell word, quoted only when it has to be. */
const shellWord = (w: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`);

/** Options for one API call: its content type and an abort signal (client-node passes it to fetch). */
function callOptions(opts: { contentType?: string; signal?: AbortSignal }): ConfigurationOptions | undefined {
  const { contentType, signal } = opts;
  if (!contentType && !signal) return undefined;
  // client-node's middleware returns its own minimal observable: something with toPromise().
  const settled = <T>(v: T) => ({ toPromise: () => Promise.resolve(v) });
  const pre = (ctx: { setHeaderParam(k: string, v: string): void; setSignal(s: AbortSignal): void }) => {
    if (contentType) ctx.setHeaderParam('Content-Type', contentType);
    if (signal) ctx.setSignal(signal);
    return settled(ctx);
  };
  return { middleware: [{ pre, post: settled }], middlewareMergeStrategy: 'append' } as unknown as ConfigurationOptions;
}

/** Attempts of a read-modify-write before a 409 Conflict is given up on (status updates bump resourceVersion too). */
const CONFLICT_RETRIES = 5;

export class Kube {
  readonly server: string;
  readonly context: string;
  /** The kubeconfig file given explicitly, for the kubectl commands this prints. */
  readonly kubeconfig: string | undefined;
  private core: CoreV1Api;
  private apps: AppsV1Api;
  private autoscaling: AutoscalingV2Api;
  private policy: PolicyV1Api;
  private versionApi: VersionApi;
  private apis: ApisApi;
  private custom: CustomObjectsApi;

  constructor(kc: KubeConfig, kubeconfig?: string) {
    this.server = kc.getCurrentCluster()!.server;
    this.context = kc.getCurrentContext();
    this.kubeconfig = kubeconfig;
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.autoscaling = kc.makeApiClient(AutoscalingV2Api);
    this.policy = kc.makeApiClient(PolicyV1Api);
    this.versionApi = kc.makeApiClient(VersionApi);
    this.apis = kc.makeApiClient(ApisApi);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  private async call<T>(c: Call, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw kubeErrorLine(err, c, this.server);
    }
  }

  async version(): Promise<string> {
    const v = await this.call({ verb: 'get', resource: 'version' }, () => this.versionApi.getCode());
    return v.gitVersion;
  }

  /**
   * Discovery (GET /apis): the versions of an API group the cluster serves, and the one
   * it prefers; undefined when it does not serve the group (e.g. no Istio installed).
   */
  async apiGroup(group: string): Promise<{ preferred: string; served: string[] } | undefined> {
    const list = await this.call({ verb: 'get', resource: 'API groups (discovery)' }, () => this.apis.getAPIVersions());
    const g = list.groups.find((x) => x.name === group);
    if (!g) return undefined;
    return { preferred: g.preferredVersion?.version ?? g.versions[0]!.version, served: g.versions.map((v) => v.version) };
  }

  getService(namespace: string, name: string): Promise<V1Service> {
    return this.call({ verb: 'get', resource: 'services', namespace, name }, () => this.core.readNamespacedService({ name, namespace }));
  }

  private customCall(r: CustomResource, verb: string, namespace: string, name?: string): Call {
    return { verb, resource: `${r.plural}.${r.group}`, namespace, name };
  }

  async listCustom(r: CustomResource, namespace: string, labelSelector?: string): Promise<CustomObject[]> {
    const l = (await this.call(this.customCall(r, 'list', namespace), () => this.custom.listNamespacedCustomObject({ ...r, namespace, labelSelector }))) as { items: CustomObject[] };
    return l.items;
  }

  async getCustom(r: CustomResource, namespace: string, name: string, signal?: AbortSignal): Promise<CustomObject> {
    return (await this.call(this.customCall(r, 'get', namespace, name), () => this.custom.getNamespacedCustomObject({ ...r, namespace, name }, callOptions({ signal })))) as CustomObject;
  }

  async createCustom(r: CustomResource, namespace: string, body: CustomObject, signal?: AbortSignal): Promise<CustomObject> {
    return (await this.call(this.customCall(r, 'create', namespace, body.metadata.name), () =>
      this.custom.createNamespacedCustomObject({ ...r, namespace, body }, callOptions({ signal })),
    )) as CustomObject;
  }

  /** A JSON merge patch (custom resources take no strategic merge patch); a resourceVersion in it is a precondition. */
  async patchCustom(r: CustomResource, namespace: string, name: string, patch: object, signal?: AbortSignal): Promise<CustomObject> {
    return (await this.call(this.customCall(r, 'patch', namespace, name), () =>
      this.custom.patchNamespacedCustomObject({ ...r, namespace, name, body: patch }, callOptions({ contentType: PatchStrategy.MergePatch, signal })),
    )) as CustomObject;
  }

  async deleteCustom(r: CustomResource, namespace: string, name: string, signal?: AbortSignal): Promise<void> {
    await this.call(this.customCall(r, 'delete', namespace, name), () => this.custom.deleteNamespacedCustomObject({ ...r, namespace, name }, callOptions({ signal })));
  }

  getNamespace(name: string): Promise<V1Namespace> {
    return this.call({ verb: 'get', resource: 'namespaces', name }, () => this.core.readNamespace({ name }));
  }

  getDeployment(namespace: string, name: string): Promise<V1Deployment> {
    return this.call({ verb: 'get', resource: 'deployments', namespace, name }, () => this.apps.readNamespacedDeployment({ name, namespace }));
  }

  async listDeployments(namespace: string, labelSelector?: string): Promise<V1Deployment[]> {
    const l = await this.call({ verb: 'list', resource: 'deployments', namespace }, () => this.apps.listNamespacedDeployment({ namespace, labelSelector }));
    return l.items;
  }

  /** The kubectl command line that does the same as `args` against this cluster (for restore instructions). */
  kubectl(...args: string[]): string {
    const target = [...(this.kubeconfig ? ['--kubeconfig', this.kubeconfig] : []), '--context', this.context];
    return ['kubectl', ...target, ...args].map(shellWord).join(' ');
  }

  /** The kubectl command that applies a strategic merge patch to a Deployment. */
  kubectlPatchDeployment(namespace: string, name: string, patch: object): string {
    return this.kubectl('-n', namespace, 'patch', 'deployment', name, '--type', 'strategic', '-p', JSON.stringify(patch));
  }

  /** Strategic merge patch, as `kubectl patch` sends by default. */
  patchDeployment(namespace: string, name: string, patch: object, signal?: AbortSignal): Promise<V1Deployment> {
    return this.call({ verb: 'patch', resource: 'deployments', namespace, name }, () =>
      this.apps.patchNamespacedDeployment({ name, namespace, body: patch }, callOptions({ contentType: PatchStrategy.StrategicMergePatch, signal })),
    );
  }

  /** The container a change targets: the named one, or the first. */
  static containerOf(d: V1Deployment, container?: string): string {
    const containers = d.spec?.template.spec?.containers ?? [];
    const c = container ? containers.find((x) => x.name === container) : containers[0];
    if (!c) throw new UserError(`deployment "${d.metadata?.name}" has no container ${container ? `"${container}"` : ''}`.trim(), EXIT.badInput);
    return c.name;
  }

  /** The named env entries of a Deployment's container, whole. */
  static envOf(d: V1Deployment, container: string, names: readonly string[]): EnvSnapshot {
    const env = d.spec?.template.spec?.containers.find((c) => c.name === container)?.env ?? [];
    return Object.fromEntries(names.map((n) => [n, env.find((e) => e.name === n)]));
  }

  /**
   * Set env vars of one container of a Deployment to literal values (a rollout
   * when anything changed) and return the entries they replace, whole, for
   * `restoreDeploymentEnv`. The write is conditional on the resourceVersion read
   * (retried on 409), so what is returned is exactly what was replaced. A variable
   * that comes from a ConfigMap or Secret (`valueFrom`) is refused unless
   * `replaceValueFrom`: replacing it would detach the Deployment from that config.
   */
  async setDeploymentEnv(
    namespace: string,
    name: string,
    values: Record<string, string>,
    opts: { container?: string; replaceValueFrom?: boolean; signal?: AbortSignal } = {},
  ): Promise<EnvSnapshot> {
    for (let attempt = 1; ; attempt++) {
      const d = await this.getDeployment(namespace, name);
      const container = Kube.containerOf(d, opts.container);
      const previous = Kube.envOf(d, container, Object.keys(values));
      const fromConfig = Object.entries(previous).filter(([, e]) => e?.valueFrom);
      if (fromConfig.length && !opts.replaceValueFrom) {
        const [n, e] = fromConfig[0]!;
        const source = e!.valueFrom!.configMapKeyRef ? `ConfigMap ${e!.valueFrom!.configMapKeyRef.name}` : e!.valueFrom!.secretKeyRef ? `Secret ${e!.valueFrom!.secretKeyRef.name}` : 'a valueFrom reference';
        throw new UserError(`refusing to change ${n} of deployment ${namespace}/${name}: it comes from ${source} (valueFrom); pass --force to replace it with a literal value for the run (restored afterwards)`, EXIT.badInput);
      }
      const entries = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { name: k, value: v }]));
      try {
        await this.patchDeployment(namespace, name, envPatch(container, entries, d.metadata?.resourceVersion), opts.signal);
        return previous;
      } catch (err) {
        if (!(err instanceof KubeError && err.status === 409) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  /** Put env entries back exactly as `setDeploymentEnv` returned them (unset ones are removed). */
  async restoreDeploymentEnv(namespace: string, name: string, previous: EnvSnapshot, opts: { container?: string; signal?: AbortSignal } = {}): Promise<void> {
    const container = opts.container ?? Kube.containerOf(await this.getDeployment(namespace, name));
    await this.patchDeployment(namespace, name, envPatch(container, previous), opts.signal);
  }

  /** `kubectl rollout restart`: a new pod-template annotation, so every pod is replaced by a rolling update. */
  restartDeployment(namespace: string, name: string, at = new Date()): Promise<V1Deployment> {
    return this.patchDeployment(namespace, name, {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } } },
    });
  }

  scaleDeployment(namespace: string, name: string, replicas: number): Promise<V1Deployment> {
    return this.patchDeployment(namespace, name, { spec: { replicas } });
  }

  /** Poll until the Deployment's rollout completes; throws a one-line UserError on timeout. */
  async waitForRollout(namespace: string, name: string, opts: RolloutOptions): Promise<RolloutState> {
    const deadline = Date.now() + opts.timeoutMs;
    let state: RolloutState = { done: false, message: 'not yet read' };
    for (;;) {
      opts.signal?.throwIfAborted();
      state = rolloutState(await this.getDeployment(namespace, name));
      opts.onProgress?.(state);
      if (state.done) return state;
      if (state.message.includes('progress deadline')) throw new UserError(state.message);
      if (Date.now() >= deadline) throw new UserError(`rollout of deployment "${name}" did not complete within ${Math.round(opts.timeoutMs / 1000)} s: ${state.message}`);
      await sleep(opts.pollMs ?? 1000, undefined, { signal: opts.signal });
    }
  }

  async listPods(namespace: string, opts: { labelSelector?: string; fieldSelector?: string } = {}): Promise<V1Pod[]> {
    const l = await this.call({ verb: 'list', resource: 'pods', namespace }, () => this.core.listNamespacedPod({ namespace, ...opts }));
    return l.items;
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.call({ verb: 'delete', resource: 'pods', namespace, name }, () => this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds }));
  }

  /**
   * POST pods/<name>/eviction (policy/v1). A 429 means a PodDisruptionBudget refused
   * it for now; a 404 means the pod is already gone, which is what an eviction wants.
   */
  async evictPod(namespace: string, name: string, gracePeriodSeconds?: number, signal?: AbortSignal): Promise<EvictionResult> {
    try {
      await this.core.createNamespacedPodEviction(
        {
          name,
          namespace,
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name, namespace },
            deleteOptions: gracePeriodSeconds === undefined ? undefined : { gracePeriodSeconds },
          },
        },
        callOptions({ signal }),
      );
      return { evicted: true };
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return { evicted: true, gone: true };
      if (err instanceof ApiException && err.code === 429) {
        const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string; details?: { causes?: { message?: string }[] } }) : undefined;
        return { evicted: false, reason: body?.details?.causes?.[0]?.message ?? body?.message ?? 'disruption budget' };
      }
      throw kubeErrorLine(err, { verb: 'create', resource: 'pods/eviction', namespace, name }, this.server);
    }
  }

  async listNodes(labelSelector?: string): Promise<V1Node[]> {
    const l = await this.call({ verb: 'list', resource: 'nodes' }, () => this.core.listNode({ labelSelector }));
    return l.items;
  }

  getNode(name: string): Promise<V1Node> {
    return this.call({ verb: 'get', resource: 'nodes', name }, () => this.core.readNode({ name }));
  }

  /** Cordon (true) or uncordon (false) a node, as `kubectl cordon` does. */
  setUnschedulable(name: string, unschedulable: boolean, signal?: AbortSignal): Promise<V1Node> {
    return this.call({ verb: 'patch', resource: 'nodes', name }, () =>
      this.core.patchNode({ name, body: { spec: { unschedulable: unschedulable || null } } }, callOptions({ contentType: PatchStrategy.MergePatch, signal })),
    );
  }

  async listHpas(namespace: string): Promise<V2HorizontalPodAutoscaler[]> {
    const l = await this.call({ verb: 'list', resource: 'horizontalpodautoscalers', namespace }, () =>
      this.autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace }),
    );
    return l.items;
  }

  getHpa(namespace: string, name: string): Promise<V2HorizontalPodAutoscaler> {
    return this.call({ verb: 'get', resource: 'horizontalpodautoscalers', namespace, name }, () =>
      this.autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace }),
    );
  }

  async listPdbs(namespace: string): Promise<V1PodDisruptionBudget[]> {
    const l = await this.call({ verb: 'list', resource: 'poddisruptionbudgets', namespace }, () => this.policy.listNamespacedPodDisruptionBudget({ namespace }));
    return l.items;
  }

  async listEvents(namespace: string, fieldSelector?: string): Promise<CoreV1Event[]> {
    const l = await this.call({ verb: 'list', resource: 'events', namespace }, () => this.core.listNamespacedEvent({ namespace, fieldSelector }));
    return l.items;
  }
}

/** Connect to the cluster the kubeconfig (or the pod's service account) names. */
export function connectKube(target: KubeTarget = {}): Kube {
  return new Kube(loadKubeConfig(target), target.kubeconfig);
}
