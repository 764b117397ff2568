import { stringify } from 'yaml';
import type { BuiltDashboard } from './registry.ts';

// The ways a cluster takes dashboards in, as files: Grafana JSON for the UI's
// import, a file-provisioning provider, and ConfigMaps for the
// kube-prometheus-stack Grafana sidecar (label grafana_dashboard: "1") with a
// kustomization. Pure: returns the files, the CLI writes them.

export interface PackageOptions {
  /** Grafana folder the dashboards land in (provisioning, sidecar annotation, push). */
  folder: string;
  /** Namespace of the ConfigMaps: where the Grafana sidecar watches (kube-prometheus-stack: monitoring). */
  namespace: string;
  /** Directory inside the Grafana container the provisioning provider reads JSON from. */
  provisioningPath: string;
}

export interface OutputFile {
  /** Relative to the output directory. */
  path: string;
  content: string;
}

export const PROVISIONING_FILE = 'provisioning/dashboards/myhero.yaml';
export const KUBERNETES_DIR = 'kubernetes';

/** The label the kube-prometheus-stack sidecar selects ConfigMaps by (sidecar.dashboards.label/labelValue). */
export const SIDECAR_LABEL = { grafana_dashboard: '1' } as const;
/** The annotation the sidecar reads a target folder from when sidecar.dashboards.folderAnnotation is set to it. */
export const SIDECAR_FOLDER_ANNOTATION = 'grafana_folder';

/** Grafana folder uid from its name: stable, so provisioning and push agree on one folder. */
export function folderUid(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'myhero'
  );
}

export const dashboardFile = (d: BuiltDashboard) => `${d.slug}.json`;
export const configMapName = (d: BuiltDashboard) => `grafana-dashboard-${d.slug}`;
export const dashboardJson = (d: BuiltDashboard) => `${JSON.stringify(d.json, null, 2)}\n`;

function provisioning(opts: PackageOptions): string {
  return stringify({
    apiVersion: 1,
    providers: [
      {
        name: 'myhero',
        orgId: 1,
        folder: opts.folder,
        folderUid: folderUid(opts.folder),
        type: 'file',
        disableDeletion: false,
        // The dashboards are code: edits belong in the repository, not the UI.
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: opts.provisioningPath, foldersFromFilesStructure: false },
      },
    ],
  });
}

function configMap(d: BuiltDashboard, opts: PackageOptions): string {
  return stringify(
    {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: configMapName(d),
      namespace: opts.namespace,
      labels: { ...SIDECAR_LABEL, 'app.kubernetes.io/part-of': 'myhero-ops' },
      annotations: { [SIDECAR_FOLDER_ANNOTATION]: opts.folder },
    },
      data: { [dashboardFile(d)]: dashboardJson(d) },
    },
    // A literal block keeps the JSON byte for byte and readable in kubectl output.
    { blockQuote: 'literal' },
  );
}

export function packageDashboards(dashboards: readonly BuiltDashboard[], opts: PackageOptions): OutputFile[] {
  const configMaps = dashboards.map((d) => ({ path: `${KUBERNETES_DIR}/${configMapName(d)}.yaml`, content: configMap(d, opts) }));
  const kustomization = stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: opts.namespace,
    resources: configMaps.map((c) => c.path.slice(KUBERNETES_DIR.length + 1)),
  });
  return [
    ...dashboards.map((d) => ({ path: dashboardFile(d), content: dashboardJson(d) })),
    { path: PROVISIONING_FILE, content: provisioning(opts) },
    ...configMaps,
    { path: `${KUBERNETES_DIR}/kustomization.yaml`, content: kustomization },
  ];
}
