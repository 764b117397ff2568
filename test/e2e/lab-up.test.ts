import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PORTS } from '../../lib/defaults.ts';
import { assertPortFree } from '../../lib/net.ts';
import { runCli, startCli, type CliProcess } from '../fixtures/cli.ts';

// `bin/myhero-ops lab up` as a user runs it. The queue-mode test is the one
// test of the suite on the fixed workstation ports (15000, 15001, 1883, 15009).

describe('myhero-ops lab up', () => {
  let lab: CliProcess | undefined;
  afterAll(async () => {
    if (lab && lab.child.exitCode === null) {
      lab.child.kill('SIGINT');
      await lab.result;
    }
  });

  it('--mode queue on the default ports: a curl vote is "vote submitted" and counted within a second; Ctrl-C stops everything', async () => {
    lab = startCli(['lab', 'up', '--mode', 'queue', '--prometheus'], { timeoutMs: 90_000 });
    await lab.waitFor(/Press Ctrl-C/);
    expect(lab.stderr()).not.toMatch(/error/i);
    const out = lab.stdout();
    expect(out).toContain('app       http://127.0.0.1:15001');
    expect(out).toContain('data      http://127.0.0.1:15000');
    expect(out).toContain('broker    mqtt://127.0.0.1:1883');
    expect(out).toMatch(/data dir {2}\S+myhero-lab-/);
    expect(out).toContain(`ernst   http://127.0.0.1:${PORTS.ernstMetrics}/metrics`);

    // curl -H 'key: DevApp' -X POST 127.0.0.1:15001/vote/Deadpool
    const res = await fetch('http://127.0.0.1:15001/vote/Deadpool', { method: 'POST', headers: { key: 'DevApp' } });
    expect(await res.json()).toEqual({ result: 'vote submitted' });
    const voted = Date.now();
    let results: unknown = [];
    while (Date.now() - voted < 1000) {
      results = await (await fetch('http://127.0.0.1:15001/v2/results', { headers: { key: 'DevApp' } })).json();
      if (Array.isArray(results) && results.length > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(results).toEqual([['Deadpool', 1, 100]]);

    // --prometheus: the real Prometheus scrapes all three services.
    expect(out).toContain(`prometheus http://127.0.0.1:${PORTS.labPrometheus}`);
    const promUp = async () => {
      const q = await fetch(`http://127.0.0.1:${PORTS.labPrometheus}/api/v1/query?query=sum(up)`);
      return Number(((await q.json()) as { data: { result: { value: [number, string] }[] } }).data.result[0]?.value[1] ?? 0);
    };
    const scraped = Date.now();
    while ((await promUp()) < 3 && Date.now() - scraped < 20_000) await new Promise((r) => setTimeout(r, 250));
    expect(await promUp()).toBe(3);

    lab.child.kill('SIGINT');
    expect((await lab.result).code).toBe(0);
    for (const port of [PORTS.data, PORTS.app, PORTS.mqtt, PORTS.ernstMetrics, PORTS.labPrometheus]) await assertPortFree('127.0.0.1', port, 'test');
  }, 90_000);

  it('a port already in use: one clear line and exit code 3 (nothing could run)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['lab', 'up', '--app-port', String(port), '--data-port', '0']);
      expect(r.code).toBe(3);
      expect(r.stderr.trim()).toBe(`myhero-ops: port ${port} on 127.0.0.1 is already in use (wanted for myhero-app)`);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 30_000);

  it('bad input: one clear line and a non-zero exit', async () => {
    const r = await runCli(['lab', 'up', '--mode', 'sideways']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('myhero-ops: invalid --mode "sideways": expected one of direct|queue');
  }, 30_000);
});
