import { afterEach, describe, expect, it } from 'vitest';
import { checkInventory, formatFindings, readInventory } from '../preflight.ts';
import { manifests, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';
import { runCli } from '../../test/fixtures/cli.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const failing = (f: ReturnType<typeof checkInventory>) => f.filter((x) => x.severity === 'fail').map((x) => `${x.object} ${x.check}`);

describe('preflight', () => {
  it('finds what the tutorial manifests lack, with reasons and fixes', async () => {
    c = await startCluster({ objects: manifests(false) });
    const findings = checkInventory(await readInventory(c.kube, 'default', 'app=myhero'));
    expect(failing(findings)).toEqual([
      'deployment/myhero-app replicas',
      'deployment/myhero-app hpa',
      'deployment/myhero-app pdb',
      'deployment/myhero-ui readiness-probe',
      'deployment/myhero-ui replicas',
      'deployment/myhero-ui pdb',
    ]);
    const text = formatFindings(findings);
    expect(text).toContain('runs 1 replica: killing one pod or losing its node takes the app tier down');
    expect(text).toContain('fix: apply the HPA in chaos/manifests/ (CPU target, min 2)');
    // Limits without requests: the request defaults to the limit, which is worth a warning, not a failure.
    expect(text).toMatch(/WARN {2}deployment\/myhero-app +container myhero-app has a CPU limit but no request: the request defaults to the limit \(200m\)/);
    expect(text).toMatch(/WARN {2}deployment\/myhero-data +single replica of a stateful tier: if it is lost, every vote fails in direct mode/);
    expect(text).toMatch(/WARN {2}deployment\/myhero-mosca +single replica of a stateful tier: if it is lost, every vote fails in queue mode/);
    expect(text).toMatch(/WARN {2}deployment\/myhero-app +container myhero-app has no preStop hook: a deleted pod stops at once, while the Service still sends it new connections/);
    expect(text).toContain('preflight: 6 failure(s)');
    // No Istio here: one line says http-fault cannot run, as a warning (a game day without faults needs none).
    expect(text).toMatch(/WARN {2}- +Istio is not installed: the cluster serves no networking\.istio\.io API, .*: chaos http-fault cannot run here\n +fix: install Istio/);
  });

  it('fails an HPA target without CPU requests and a PDB that blocks every drain', async () => {
    c = await startCluster({
      objects: manifests(true, (o) => {
        const d = structuredClone(o);
        if (o.kind === 'Deployment' && o.metadata.name === 'myhero-app') d.spec.template.spec.containers[0].resources = {};
        if (o.kind === 'PodDisruptionBudget' && o.metadata.name === 'myhero-ui') d.spec = { minAvailable: 2, selector: o.spec.selector };
        return d;
      }),
    });
    await settle(c);
    await new Promise((r) => setTimeout(r, 300));
    const findings = checkInventory(await readInventory(c.kube, 'default', 'app=myhero'));
    expect(failing(findings)).toEqual(['deployment/myhero-app cpu-request', 'deployment/myhero-app hpa', 'deployment/myhero-ui pdb']);
    expect(findings.find((f) => f.check === 'hpa')?.message).toMatch(/HPA myhero-app is not scaling: FailedGetResourceMetric: .*missing request for cpu/);
    expect(findings.find((f) => f.object === 'deployment/myhero-ui' && f.check === 'pdb')?.message).toBe(
      'PodDisruptionBudget myhero-ui allows no disruption at 2 replica(s): node drains will hang',
    );
  });

  it('fails (exit 1, --json) on the tutorial manifests and passes once the hardening overlay is applied', async () => {
    c = await startCluster({ objects: manifests(false) });
    const before = await runCli(['chaos', 'preflight', '-n', 'default', '--kubeconfig', c.kubeconfig, '--json']);
    expect(before.code).toBe(1);
    expect((JSON.parse(before.stdout) as { findings: { severity: string }[] }).findings.filter((f) => f.severity === 'fail')).toHaveLength(6);
    // kubectl apply -k chaos/manifests: the overlay's objects merged into what is there.
    for (const o of manifests(true)) c.api.cluster.apply({ ...o, metadata: { ...o.metadata, namespace: 'default' } });
    await settle(c, { hpa: 'myhero-app' });
    const after = checkInventory(await readInventory(c.kube, 'default', 'app=myhero'));
    expect(failing(after)).toEqual([]);
    expect(after.filter((f) => f.check === 'prestop')).toEqual([]);
    expect(formatFindings(after)).toMatch(/preflight: passed with \d+ warning\(s\)$/);
  }, 60_000);
});
