import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { JournalData } from '../journal.ts';
import { eventually, manifests, run, settle, startCluster, type TestCluster } from './fixtures/cluster.ts';
import { startCli } from '../../test/fixtures/cli.ts';

let c: TestCluster;
afterEach(() => c?.stop());

const probeOf = async (c: TestCluster) => (await c.kube.getDeployment('default', 'myhero-app')).spec?.template.spec?.containers[0]?.readinessProbe;

describe('rollbacks always run', () => {
  it('on failure: the readiness probe removed by the method is put back', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const original = await probeOf(c);
    const j = await run(c, {
      title: 'probe removed, then a step fails',
      command: 'test',
      namespace: 'default',
      observe: {},
      steadyState: [],
      steadyStateRecoveryMs: 0,
      method: [
        { kind: 'remove-readiness-probe', spec: { deployment: 'myhero-app' } },
        { kind: 'pod-kill', spec: { selector: 'tier=nonexistent', radius: { count: 1 } } },
      ],
      probes: [],
    });
    expect(j.status).toBe('failed');
    expect(j.error).toBe('no running pods match selector tier=nonexistent');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'restore the readiness probe of myhero-app', ok: true })]);
    expect(await probeOf(c)).toEqual(original);
    expect((await c.kube.getDeployment('default', 'myhero-app')).status?.updatedReplicas).toBe(2);
  });

  it('on timeout: the run limit stops the hold and the node is uncordoned', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const j = await run(
      c,
      {
        title: 'drain and hold',
        command: 'node-drain',
        namespace: 'default',
        observe: {},
        steadyState: [],
        steadyStateRecoveryMs: 0,
        method: [{ kind: 'node-drain', spec: { node: 'pi-3', evictionTimeoutMs: 5000, retryMs: 20, holdMs: 60_000 } }],
        probes: [],
      },
      { timeoutMs: 1500 },
    );
    expect(j.status).toBe('failed');
    expect(j.error).toBe('run time limit of 1.50 s reached');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-3', ok: true })]);
    expect((await c.kube.getNode('pi-3')).spec?.unschedulable).toBeFalsy();
  });

  it('on SIGINT: the CLI stops, uncordons the node, writes the journal and exits 130', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const out = `${c.dir}/sigint`;
    let cordonedSeen = false;
    const drain = startCli(['chaos', 'node-drain', '-n', 'default', '--kubeconfig', c.kubeconfig, '--node', 'pi-2', '--hold', '10m', '--poll', '100ms', '--sample', '100ms', '--out', out]);
    void eventually(async () => !!(await c.kube.getNode('pi-2')).spec?.unschedulable, 30_000, 'pi-2 cordoned').then(() => {
      cordonedSeen = true;
      drain.child.kill('SIGINT');
    });
    const result = await drain.result;
    expect(cordonedSeen).toBe(true);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT received, stopping and restoring');
    expect((await c.kube.getNode('pi-2')).spec?.unschedulable).toBeFalsy();
    const j = JSON.parse(readFileSync(`${out}/journal.json`, 'utf8')) as JournalData;
    expect(j.status).toBe('interrupted');
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-2', ok: true })]);
    expect(readFileSync(`${out}/report.html`, 'utf8')).toContain('Interrupted by Ctrl-C');
    expect(result.stdout).toContain('INTERRUPTED: stopped by Ctrl-C, rollbacks ran');
  }, 60_000);

  /** Hang the uncordon of `node` (its second PATCH): a rollback stuck in the API. */
  const hangUncordon = (c: TestCluster, node: string, onHang: () => void = () => {}) => {
    let patches = 0;
    c.api.inject(({ method, path }) => {
      if (method !== 'PATCH' || path !== `/api/v1/nodes/${node}`) return undefined;
      patches += 1;
      if (patches < 2) return undefined;
      onHang();
      return 'hang';
    });
  };

  it('enforces --rollback-timeout on a rollback stuck in the API, and names the command that restores it', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    hangUncordon(c, 'pi-3');
    const drain = { title: 'drain', command: 'node-drain', namespace: 'default', observe: {}, steadyState: [], steadyStateRecoveryMs: 0, probes: [] };
    const started = Date.now();
    const j = await run(c, { ...drain, method: [{ kind: 'node-drain', spec: { node: 'pi-3', evictionTimeoutMs: 5000, retryMs: 20 } }] }, { rollbackTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
    const command = `kubectl --kubeconfig ${c.kubeconfig} --context stand-in uncordon pi-3`;
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'uncordon node pi-3', ok: false, error: 'timed out after 0.3 s', command })]);
    expect(j.verdicts.find((v) => v.name === 'rollbacks')).toEqual({ name: 'rollbacks', outcome: 'fail', reason: `uncordon node pi-3: timed out after 0.3 s; restore by hand: ${command}` });
    expect(j.exitCode).toBe(1);
    expect((await c.kube.getNode('pi-3')).spec?.unschedulable).toBe(true);
  });

  it('on a second Ctrl-C: exits at once and prints each pending rollback as the kubectl command that does it', async () => {
    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    let stuck = false;
    hangUncordon(c, 'pi-2', () => (stuck = true));
    const drain = startCli(['chaos', 'node-drain', '-n', 'default', '--kubeconfig', c.kubeconfig, '--node', 'pi-2', '--hold', '10m', '--poll', '100ms', '--out', `${c.dir}/forced`]);
    void eventually(async () => !!(await c.kube.getNode('pi-2')).spec?.unschedulable, 30_000, 'pi-2 cordoned').then(async () => {
      drain.child.kill('SIGINT');
      await eventually(() => stuck, 30_000, 'the uncordon to be sent');
      drain.child.kill('SIGINT');
    });
    const result = await drain.result;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain(`myhero-ops: forced exit\nmyhero-ops: NOT restored; run these to restore:\n  kubectl --kubeconfig ${c.kubeconfig} --context stand-in uncordon pi-2\n`);
    expect((await c.kube.getNode('pi-2')).spec?.unschedulable).toBe(true);
  }, 60_000);
});
