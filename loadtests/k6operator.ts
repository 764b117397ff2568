import { stringify } from 'yaml';
import { SUMMARY_REPORT } from './k6/lib/summary.ts';

// Manifests for a distributed k6 run of the vote script with k6-operator
// (https://github.com/grafana/k6-operator, CRD k6.io/v1alpha1 TestRun): a ConfigMap
// holding the bundled script, the TestRun that starts `parallelism` runner pods, and
// a kustomization. Pure: settings in, objects and YAML out. The myhero-app key is
// only ever referenced from a Secret (secretKeyRef), never written, and only the
// runners get it (see the initializer below).

export const SCRIPT_FILE = 'vote.js';
/** A ConfigMap holds at most 1 MiB (k6-operator docs: larger scripts need a volume). */
export const CONFIGMAP_LIMIT_BYTES = 1_048_576;

export interface K6OperatorSpec {
  /** TestRun name; the ConfigMap is `<name>-script`. */
  name: string;
  namespace: string;
  /** k6 runner pods; k6 splits VUs and arrival rates between them (execution segments). */
  parallelism: number;
  /** The script's settings as env vars (TARGET, VOTERS, ...); never the key. */
  scriptEnv: Record<string, string>;
  /** Secret and data key holding the myhero-app key, exposed to the runners as MYHERO_APP_KEY. */
  keySecret: { name: string; key: string };
  /** The bundled JavaScript of the vote script. */
  script: string;
  /** Runner image; k6-operator's default when absent. */
  image?: string;
  /** One runner per node (podAntiAffinity). */
  separate?: boolean;
  /** Let k6-operator delete the jobs and pods once the run is over. */
  cleanup?: boolean;
}

export interface K6OperatorManifests {
  configMap: Record<string, unknown>;
  testRun: Record<string, unknown>;
  kustomization: Record<string, unknown>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Env vars the manifests set themselves. */
const RESERVED_ENV = ['MYHERO_APP_KEY', 'PARALLELISM', 'SUMMARY_STDOUT', 'SUMMARY_JSON'];

/** Throws one line on a spec Kubernetes or k6-operator would refuse. */
function validate(s: K6OperatorSpec): void {
  // k6-operator names jobs `<name>-initializer`, `<name>-starter`, `<name>-<n>`: keep room for the suffix.
  if (!DNS_LABEL.test(s.name) || s.name.length > 50) throw new Error(`invalid name "${s.name}": lower-case letters, digits and '-', at most 50 characters`);
  if (!DNS_LABEL.test(s.namespace) || s.namespace.length > 63) throw new Error(`invalid namespace "${s.namespace}"`);
  if (!Number.isInteger(s.parallelism) || s.parallelism < 1) throw new Error(`invalid parallelism ${s.parallelism}: a whole number of at least 1`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s.keySecret.name)) throw new Error(`invalid key Secret name "${s.keySecret.name}"`);
  if (!/^[-._a-zA-Z0-9]+$/.test(s.keySecret.key)) throw new Error(`invalid key Secret key "${s.keySecret.key}"`);
  for (const name of Object.keys(s.scriptEnv)) {
    if (!ENV_NAME.test(name)) throw new Error(`invalid env var name "${name}"`);
    if (RESERVED_ENV.includes(name)) throw new Error(`${name} is set by the manifests, not by the script settings`);
  }
  const size = new TextEncoder().encode(s.script).length;
  if (size > CONFIGMAP_LIMIT_BYTES) throw new Error(`the bundled script is ${size} bytes, over the ${CONFIGMAP_LIMIT_BYTES}-byte ConfigMap limit`);
}

export function k6OperatorManifests(s: K6OperatorSpec): K6OperatorManifests {
  validate(s);
  const labels = {
    'app.kubernetes.io/name': 'myhero-loadtest',
    'app.kubernetes.io/instance': s.name,
    'app.kubernetes.io/component': 'k6',
    'app.kubernetes.io/part-of': 'myhero-ops',
    'app.kubernetes.io/managed-by': 'myhero-ops',
  };
  const configMapName = `${s.name}-script`;
  const settingsEnv = [
    ...Object.entries(s.scriptEnv).map(([name, value]) => ({ name, value })),
    // Each runner sees only its share of the votes, so none reconciles lost/extra on its own.
    { name: 'PARALLELISM', value: String(s.parallelism) },
    // One JSON line per runner in the pod log (`kubectl logs`), no file in the container.
    { name: 'SUMMARY_STDOUT', value: 'json' },
    { name: 'SUMMARY_JSON', value: '' },
  ];
  const keyEnv = { name: 'MYHERO_APP_KEY', valueFrom: { secretKeyRef: { name: s.keySecret.name, key: s.keySecret.key } } };
  const image = s.image ? { image: s.image } : {};
  return {
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: configMapName, namespace: s.namespace, labels },
      data: { [SCRIPT_FILE]: s.script },
    },
    testRun: {
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: s.name, namespace: s.namespace, labels },
      spec: {
        parallelism: s.parallelism,
        script: { configMap: { name: configMapName, file: SCRIPT_FILE } },
        // A tag on every sample, so outputs can tell this run's runners apart from others.
        arguments: `--tag testid=${s.name}`,
        ...(s.separate ? { separate: true } : {}),
        ...(s.cleanup ? { cleanup: 'post' } : {}),
        // The initializer runs `k6 archive` with each env var of its section passed as
        // `-e NAME=value` (k6-operator v1.6.0), which puts the value on a command line and
        // into the archive; without this section it takes the runner's, key included. It
        // needs the settings (it evaluates the script's options) but not the key, which
        // only setup() and the load read.
        initializer: { ...image, metadata: { labels }, env: settingsEnv },
        runner: { ...image, metadata: { labels }, env: [...settingsEnv, keyEnv] },
      },
    },
    kustomization: {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: s.namespace,
      resources: ['configmap.yaml', 'testrun.yaml'],
    },
  };
}

/**
 * How to read the runners' summaries and reconcile them: `kubectl logs` of the runner pods
 * (k6's own log lines included, e.g. a threshold error after the summary), the summary lines
 * picked by their `report` field, the runners' accepted votes added up against the largest
 * recorded delta (every runner runs setup and teardown, so each delta is the whole target's).
 */
export function summaryRecipe(namespace: string, name: string): { logs: string[]; jq: string[]; text: string } {
  const logs = ['kubectl', '-n', namespace, 'logs', '-l', `k6_cr=${name},runner=true`, '--tail=-1'];
  const program = [
    '',
    `  [inputs | fromjson? | select(type == "object" and .report == "${SUMMARY_REPORT}")]`,
    '  | {runners: length, ok: (length > 0 and all(.[]; .ok)), accepted: (map(.acceptedTotal) | add), recorded: (map(.recordedDelta) | max)}',
    '  | .lost = (if .recorded == null then null else ([.accepted - .recorded, 0] | max) end)',
  ].join('\n');
  return { logs, jq: ['jq', '-nR', program], text: `${logs.join(' ')} | jq -nR '${program}'` };
}

/** The manifests as files: configmap.yaml, testrun.yaml, kustomization.yaml. */
export function renderManifests(m: K6OperatorManifests): Record<string, string> {
  const header = '# Generated by `myhero-ops loadtest k6-operator`. Apply with `kubectl apply -k .`\n';
  // Shared objects (labels, env) written out in full, not as YAML anchors and aliases.
  const yaml = (o: unknown) => header + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false });
  return { 'configmap.yaml': yaml(m.configMap), 'testrun.yaml': yaml(m.testRun), 'kustomization.yaml': yaml(m.kustomization) };
}
