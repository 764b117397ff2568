import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { PORTS } from '../../lib/defaults.ts';
import { promtoolBinary } from '../../lab/promstack.ts';
import { findBinary } from '../../lib/proc.ts';
import { BUNDLE_NODE_FLAGS } from '../build.ts';

// The deployment files say what the issue and the reference stack require: port 9243 on
// the host network, ARM nodes including the control plane, the 50Mi/50m–100Mi/100m
// envelope, a locked-down container, and selectors that actually select.

const here = dirname(fileURLToPath(import.meta.url));
const deploy = join(here, '..', 'deploy');
const read = (name: string) => readFileSync(join(deploy, name), 'utf8');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

function rendered(): Obj[] {
  const kubectl = findBinary(['kubectl'], 'install kubectl (it renders the kustomization offline)');
  const out = execFileSync(kubectl, ['kustomize', deploy], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}
const byKind = (objs: Obj[], kind: string) => {
  const found = objs.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests (kubectl kustomize exporters/deploy)', () => {
  const objs = rendered();
  const ds = byKind(objs, 'DaemonSet');
  const svc = byKind(objs, 'Service');
  const sm = byKind(objs, 'ServiceMonitor');
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];

  it('renders exactly a DaemonSet, a headless Service and a ServiceMonitor in one namespace', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(['DaemonSet', 'Service', 'ServiceMonitor']);
    expect(new Set(objs.map((o) => o.metadata.namespace))).toEqual(new Set(['monitoring']));
    expect(svc.spec.clusterIP).toBe('None');
  });

  it('listens on the node\'s address at :9243 with hostNetwork and hostPort', () => {
    expect(pod.hostNetwork).toBe(true);
    expect(container.ports).toEqual([{ name: 'http-metrics', containerPort: PORTS.exporter, hostPort: PORTS.exporter, protocol: 'TCP' }]);
    expect(container.args).toContain(`--listen=$(HOST_IP):${PORTS.exporter}`);
    expect(container.env).toContainEqual({ name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http-metrics' });
  });

  it('runs only on ARM Linux nodes, control plane included', () => {
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['arm', 'arm64'] }] },
    ]);
    const tolerated = pod.tolerations.map((t: Obj) => t.key);
    expect(tolerated).toEqual(expect.arrayContaining(['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']));
  });

  it('stays within the reference envelope: requests 50Mi/50m, limits 100Mi/100m', () => {
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '50Mi' }, limits: { cpu: '100m', memory: '100Mi' } });
  });

  it('runs non-root with a read-only root filesystem and /sys mounted read-only', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534 });
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const mount = container.volumeMounts.find((m: Obj) => m.mountPath === '/host/sys');
    expect(mount.readOnly).toBe(true);
    expect(pod.volumes.find((v: Obj) => v.name === mount.name).hostPath.path).toBe('/sys');
    expect(container.args).toContain('--sysfs-root=/host');
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('uses the image kustomize sets', () => {
    expect(container.image).toBe('myhero-ops/rpi-exporter:0.1.0');
  });

  it('has selectors that match: DaemonSet → pods, Service → pods, ServiceMonitor → Service and its port', () => {
    const podLabels = ds.spec.template.metadata.labels;
    expect(selects(ds.spec.selector.matchLabels, podLabels)).toBe(true);
    expect(selects(svc.spec.selector, podLabels)).toBe(true);
    expect(selects(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
    expect(svc.spec.ports).toEqual([{ name: 'http-metrics', port: PORTS.exporter, targetPort: 'http-metrics', protocol: 'TCP' }]);
    expect(sm.spec.endpoints.map((e: Obj) => e.port)).toEqual(['http-metrics']);
    expect(svc.metadata.labels[sm.spec.jobLabel]).toBe('arm-exporter');
  });
});

describe('Prometheus static scrape config', () => {
  const file = join(deploy, 'prometheus-static.yml');

  it('is a valid Prometheus configuration (promtool check config)', () => {
    expect(execFileSync(promtoolBinary(), ['check', 'config', file], { encoding: 'utf8' })).toContain('SUCCESS');
  });

  it('scrapes every target on :9243 as job arm-exporter, like the ServiceMonitor', () => {
    const job = (parse(read('prometheus-static.yml')) as Obj).scrape_configs[0];
    expect(job.job_name).toBe('arm-exporter');
    const targets: string[] = job.static_configs.flatMap((s: Obj) => s.targets);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(t).toMatch(new RegExp(`:${PORTS.exporter}$`));
  });
});

describe('image and unit run the bundle the way the benchmark measured it', () => {
  it('Dockerfile: multi-stage, non-root, port 9243, the benchmarked node flags', () => {
    const dockerfile = readFileSync(join(here, '..', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM --platform=\$BUILDPLATFORM .* AS build$/m);
    expect(dockerfile).toContain('--platform linux/arm/v7,linux/arm64,linux/amd64');
    expect(dockerfile).toMatch(/^USER 65534:65534$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${PORTS.exporter}$`, 'm'));
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[];
    expect(entrypoint).toEqual(['node', ...BUNDLE_NODE_FLAGS, '/app/rpi-exporter.mjs']);
  });

  it('systemd unit: the same flags', () => {
    const unit = read('systemd/rpi-exporter.service');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
    expect(exec.slice(0, BUNDLE_NODE_FLAGS.length + 2)).toEqual(['/usr/bin/node', ...BUNDLE_NODE_FLAGS, '/opt/rpi-exporter/rpi-exporter.mjs']);
  });
});
