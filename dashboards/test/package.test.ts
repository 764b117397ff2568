import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROVISIONING_FILE, folderUid, packageDashboards } from '../package.ts';
import { buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dashboards = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' }));
const files = packageDashboards(dashboards, { folder: 'myhero ops', namespace: 'monitoring', provisioningPath: '/var/lib/grafana/dashboards/myhero' });
const file = (path: string) => files.find((f) => f.path === path)?.content ?? '';

describe('packaging the dashboards', () => {
  it('writes one importable JSON per dashboard, a provisioning config, ConfigMaps and a kustomization', () => {
    expect(files.map((f) => f.path)).toEqual([
      ...dashboards.map((d) => `${d.slug}.json`),
      PROVISIONING_FILE,
      ...dashboards.map((d) => `kubernetes/grafana-dashboard-${d.slug}.yaml`),
      'kubernetes/kustomization.yaml',
    ]);
    for (const d of dashboards) expect(JSON.parse(file(`${d.slug}.json`))).toEqual(d.json);
  });

  it('provisions from files into a folder whose uid matches the one push uses', () => {
    const doc = parse(file(PROVISIONING_FILE)) as Json;
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        folder: 'myhero ops',
        folderUid: 'myhero-ops',
        allowUiUpdates: false,
        options: { path: '/var/lib/grafana/dashboards/myhero', foldersFromFilesStructure: false },
      }),
    ]);
  });

  it('labels each ConfigMap grafana_dashboard: "1" (a string) and carries the JSON byte for byte', () => {
    for (const d of dashboards) {
      const text = file(`kubernetes/grafana-dashboard-${d.slug}.yaml`);
      expect(text).toMatch(/grafana_dashboard: "1"/);
      const cm = parse(text) as Json;
      expect(cm).toMatchObject({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `grafana-dashboard-${d.slug}`, namespace: 'monitoring', labels: { grafana_dashboard: '1' }, annotations: { grafana_folder: 'myhero ops' } },
      });
      expect(Object.keys(cm.data)).toEqual([`${d.slug}.json`]);
      expect(cm.data[`${d.slug}.json`]).toBe(file(`${d.slug}.json`));
      // The sidecar loads ConfigMaps up to 1 MiB; kubectl's client-side apply annotation caps at 256 KiB.
      expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
    }
  });

  it('lists every ConfigMap in the kustomization', () => {
    const k = parse(file('kubernetes/kustomization.yaml')) as Json;
    expect(k).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'monitoring' });
    expect(k.resources.map((r: string) => `kubernetes/${r}`)).toEqual(files.filter((f) => /grafana-dashboard-/.test(f.path)).map((f) => f.path));
  });

  it.each([
    ['myhero', 'myhero'],
    ['MyHero Ops / Pi', 'myhero-ops-pi'],
    ['  --  ', 'myhero'],
    ['x'.repeat(60), 'x'.repeat(40)],
  ])('folder %j gets uid %j', (name, uid) => {
    expect(folderUid(name)).toBe(uid);
  });
});
