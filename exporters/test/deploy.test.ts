import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { RPI } from '../../lib/catalog.ts';
import { LOOPBACK, PORTS } from '../../lib/defaults.ts';
import { DEFAULT_RELEASE } from '../../lib/monitoring.ts';
import { validateObject } from '../../test/fixtures/k8s-schemas.ts';
import { startExporter } from '../server.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { makeSysfs } from './fixtures/sysfs.ts';
import { promtoolBinary } from '../../lib/promstack.ts';
import { findBinary } from '../../lib/proc.ts';
import { BUNDLE_NODE_FLAGS } from '../build.ts';

// The deployment files say what the issue and the reference stack require: port 9243 on
// the host network, ARM nodes including the control plane, the 50Mi/50m–100Mi/100m
// envelope, a locked-down container, and selectors that actually select.

const here = dirname(fileURLToPath(import.meta.url));
const deploy = join(here, '..', 'deploy');
const read = (name: string) => readFileSync(join(deploy, name), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'rpi-deploy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/* eslint-disable @typescript-eslint/no-explicit-any */
type Obj = Record<string, any>;

function rendered(dir = deploy): Obj[] {
  const kubectl = findBinary(['kubectl'], 'install kubectl (it renders the kustomization offline)');
  const out = execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
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

  it("carries the release label kube-prometheus-stack selects ServiceMonitors by, the monitoring config's default", () => {
    expect(sm.metadata.labels.release).toBe(DEFAULT_RELEASE);
    // On metadata only: the DaemonSet's selector and pods are unchanged.
    expect(ds.spec.selector.matchLabels).not.toHaveProperty('release');
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

  it('systemd unit: the same flags, and a port of its own when it must sit beside the DaemonSet', () => {
    const unit = read('systemd/rpi-exporter.service');
    const exec = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
    expect(exec.slice(0, BUNDLE_NODE_FLAGS.length + 2)).toEqual(['/usr/bin/node', ...BUNDLE_NODE_FLAGS, '/opt/rpi-exporter/rpi-exporter.mjs']);
    expect(exec.at(-1)).toBe('--listen=${RPI_EXPORTER_LISTEN}');
    expect(unit).toMatch(new RegExp(`^Environment=RPI_EXPORTER_LISTEN=0\\.0\\.0\\.0:${PORTS.exporter}$`, 'm'));
    expect(unit).toContain('Not beside the DaemonSet on the same port');
  });
});

describe('the vcgencmd variant (kubectl kustomize exporters/deploy/vcgencmd)', () => {
  const objs = rendered(join(deploy, 'vcgencmd'));
  const ds = byKind(objs, 'DaemonSet');
  const cm = byKind(objs, 'ConfigMap');
  const pod = ds.spec.template.spec;
  const container = pod.containers[0];
  const mount = (path: string) => container.volumeMounts.find((m: Obj) => m.mountPath === path);
  const volume = (name: string) => pod.volumes.find((v: Obj) => v.name === name);

  it('validates against the upstream schemas, like every shipped manifest', async () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'DaemonSet', 'Service', 'ServiceMonitor']);
    for (const o of objs) await validateObject(o);
  });

  it('runs the vcgencmd collector through the host-vcgencmd wrapper', () => {
    expect(container.args).toContain('--collectors=cpu,thermal,freq,vcgencmd');
    expect(container.args).toContain('--vcgencmd=/opt/vcgencmd/vcgencmd');
    expect(volume(mount('/opt/vcgencmd').name).configMap).toEqual({ name: cm.metadata.name, defaultMode: 0o555 });
    expect(cm.data.vcgencmd).toBe(readFileSync(join(deploy, 'vcgencmd', 'vcgencmd-host.sh'), 'utf8'));
  });

  it("opens /dev/vchiq with the least privilege that works without a device plugin: privileged, but nobody in group video, read-only everywhere", () => {
    expect(volume(mount('/dev/vchiq').name).hostPath).toEqual({ path: '/dev/vchiq', type: 'CharDevice' });
    expect(mount('/host/usr').readOnly).toBe(true);
    expect(volume(mount('/host/usr').name).hostPath).toEqual({ path: '/usr', type: 'Directory' });
    expect(container.securityContext).toMatchObject({ privileged: true, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    // The API rejects privileged together with allowPrivilegeEscalation: false.
    expect(container.securityContext.allowPrivilegeEscalation).toBe(true);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, supplementalGroups: [44] });
    expect(mount('/host/sys').readOnly).toBe(true);
    // Everything else is the plain DaemonSet's.
    expect(container.resources).toEqual({ requests: { cpu: '50m', memory: '50Mi' }, limits: { cpu: '100m', memory: '100Mi' } });
    expect(pod.hostNetwork).toBe(true);
  });

  it("the wrapper runs the host's binary with the host's loader and libraries, and says what is missing", async () => {
    // A host root with the loader and libraries of this machine and `env` as its "vcgencmd": env runs the
    // firmware commands from PATH, where fake ones answer like a Pi's.
    const host = join(tmp, 'host');
    const loader = '/usr/lib64/ld-linux-x86-64.so.2';
    mkdirSync(join(host, 'usr/bin'), { recursive: true });
    mkdirSync(join(host, 'usr/lib64'), { recursive: true });
    mkdirSync(join(host, 'usr/lib'), { recursive: true });
    copyFileSync('/usr/bin/env', join(host, 'usr/bin/vcgencmd'));
    chmodSync(join(host, 'usr/bin/vcgencmd'), 0o755);
    symlinkSync(loader, join(host, 'usr/lib64/ld-linux-x86-64.so.2'));
    symlinkSync('/usr/lib/x86_64-linux-gnu', join(host, 'usr/lib/x86_64-linux-gnu'));
    const commands = join(tmp, 'firmware');
    mkdirSync(commands);
    for (const [name, answer] of [['get_throttled', 'throttled=0x50005'], ['measure_temp', "temp=61.2'C"], ['measure_volts', 'volt=1.2000V']]) {
      writeFileSync(join(commands, name!), `#!/bin/sh\necho "${answer}"\n`);
      chmodSync(join(commands, name!), 0o755);
    }
    const wrapper = join(deploy, 'vcgencmd', 'vcgencmd-host.sh');
    const env = { ...process.env, VCGENCMD_HOST_ROOT: host, PATH: `${commands}:${process.env.PATH}` };
    expect(execFileSync(wrapper, ['get_throttled'], { encoding: 'utf8', env })).toBe('throttled=0x50005\n');

    // The exporter's vcgencmd collector through it.
    const saved = { ...process.env };
    Object.assign(process.env, { VCGENCMD_HOST_ROOT: host, PATH: env.PATH });
    const sysfs = join(tmp, 'sysfs');
    makeSysfs(sysfs, 'pi4');
    const exporter = await startExporter({ host: LOOPBACK, port: 0, sysfsRoot: sysfs, vcgencmd: wrapper, vcgencmdCacheMs: 0, collectors: ['vcgencmd'] });
    try {
      const exp = parseExposition(await (await fetch(`${exporter.url}/metrics`)).text());
      expect(valueOf(exp, RPI.gpuTemperature)).toBe(61.2);
      expect(valueOf(exp, RPI.throttled, { reason: 'under_voltage', period: 'now' })).toBe(1);
      expect(valueOf(exp, RPI.collectorErrors, { collector: 'vcgencmd' })).toBe(0);
    } finally {
      await exporter.stop();
      process.env.PATH = saved.PATH;
      delete process.env.VCGENCMD_HOST_ROOT;
    }

    // A node without the host's vcgencmd: one line on stderr, exit 127, so the collector counts an error.
    const bare = join(tmp, 'bare');
    mkdirSync(bare);
    const r = spawnSync(wrapper, ['get_throttled'], { encoding: 'utf8', env: { ...env, VCGENCMD_HOST_ROOT: bare } });
    expect(r.status).toBe(127);
    expect(r.stderr).toMatch(/^vcgencmd: .*\/usr\/bin\/vcgencmd not found: install the host's vcgencmd/);
  });
});

describe('the tolerate-all component', () => {
  it('replaces the tolerations with one that tolerates every taint, in an overlay of your own', () => {
    const overlay = join(tmp, 'overlay');
    mkdirSync(overlay);
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      // kustomize takes relative paths only.
      `resources: [${relative(overlay, join(deploy, 'vcgencmd'))}]\ncomponents: [${relative(overlay, join(deploy, 'components', 'tolerate-all'))}]\n`,
    );
    const ds = byKind(rendered(overlay), 'DaemonSet');
    expect(ds.spec.template.spec.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(ds.spec.template.spec.containers[0].args).toContain('--collectors=cpu,thermal,freq,vcgencmd');
  });
});
