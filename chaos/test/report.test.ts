import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalData } from '../journal.ts';
import { createGrafanaClient } from '../../lib/grafana-client.ts';
import { listen } from '../../lib/net.ts';
import { runCli } from '../../test/fixtures/cli.ts';
import { pushAnnotations, renderHtml, renderMarkdown, verdictLine } from '../report.ts';
import { manifests, settle, startCluster } from './fixtures/cluster.ts';

const journal: JournalData = {
  title: 'Readiness probes keep failed votes within budget',
  command: 'gameday readiness.yaml',
  namespace: 'default',
  context: 'pi-cluster',
  server: 'https://10.0.0.1:6443',
  dryRun: false,
  startedAt: '2026-11-22T10:00:00.000Z',
  endedAt: '2026-11-22T10:01:00.000Z',
  durationMs: 60_000,
  status: 'completed',
  conditions: { kubernetes: 'v1.31.4+k3s1', loadModel: 'open', loadLevel: 20 },
  plan: ['readiness — namespace default', 'method:', '  1. pod-kill', '  2. http-fault'],
  steps: [
    { index: 1, kind: 'pod-kill', description: 'delete 1 pod(s) chosen at random among pods matching tier=app', t: 9_900, end: 10_050, durationMs: 150, status: 'succeeded' },
    { index: 2, kind: 'http-fault', description: 'inject a HTTP 500 abort on 50% of requests to service myhero-app', t: 35_000, end: 52_000, durationMs: 17_000, status: 'succeeded' },
  ],
  windows: [{ name: 'HTTP 500 abort on 50% of requests: myhero-app', from: 36_000, to: 46_000 }],
  actions: [
    { t: 10_000, name: 'pod-kill', detail: 'pod default/myhero-app-abc (grace 0 s)', ok: true },
    { t: 30_000, name: 'rollout-restart', detail: 'rollout restart of deployment default/myhero-app', ok: true },
  ],
  probes: [{ t: 0, name: 'ready', phase: 'before', ok: true, value: 2, reason: 'myhero-app: 2 of 2 replicas Ready' }],
  rollbacks: [{ t: 59_000, name: 'restore the readiness probe of myhero-app', ok: true }],
  events: [{ t: 10_100, at: '2026-11-22T10:00:10.100Z', type: 'Normal', reason: 'Killing', object: 'pod/myhero-app-abc', message: 'Stopping container <myhero-app>', count: 1 }],
  samples: Array.from({ length: 13 }, (_, i) => ({ t: i * 5000, readyReplicas: i === 2 || i === 3 ? 1 : 2, hpaReplicas: 2, hpaDesiredReplicas: 2, errorRate: i === 3 ? 0.25 : 0, requests: 20 })),
  measurements: { recoveryMs: 8200, votesAttempted: 1200, votesFailed: 40 },
  verdicts: [
    { name: 'failed votes within budget', outcome: 'fail', reason: '40 of 1200 votes failed (3.33%, budget <= 0.01): reset 40' },
    { name: 'likely cause', outcome: 'fail', reason: 'deployment/myhero-app: container myhero-app has no readiness probe' },
  ],
};

let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
afterAll(() => browser?.close());

describe('reports', () => {
  it('Markdown names the verdicts, timeline, events and conditions', () => {
    const md = renderMarkdown(journal);
    expect(verdictLine(journal)).toBe('FAIL: failed votes within budget; likely cause');
    expect(md).toContain('**FAIL: failed votes within budget; likely cause**');
    expect(md).toContain('| failed votes within budget | **FAIL** | 40 of 1200 votes failed (3.33%, budget <= 0.01): reset 40 |');
    expect(md).toContain('| 10 | pod-kill | pod default/myhero-app-abc (grace 0 s) |');
    expect(md).toContain('| 59 | rollback restore the readiness probe of myhero-app | done |');
    expect(md).toContain('- recoveryMs: 8.2 s');
    // The method's steps with their status and duration, and the fault's window, on the timeline.
    expect(md).toContain('| 9.9 | step 1: pod-kill | delete 1 pod(s) chosen at random among pods matching tier=app — succeeded after 0.15 s |');
    expect(md).toContain('| 36 | HTTP 500 abort on 50% of requests: myhero-app begins | in force from here |');
    expect(md).toContain('| 46 | HTTP 500 abort on 50% of requests: myhero-app ends | in force 10 s |');
    expect(md).toContain('- kubernetes: v1.31.4+k3s1');
  });

  it('reports what was not observed as NOT OBSERVED, never as passed, and a failed rollback with its restore command', () => {
    const j: JournalData = {
      ...journal,
      verdicts: [
        { name: 'hpa myhero-app CPU below target after the load', outcome: 'pass', reason: 'CPU fell to 12% (target 60%)' },
        { name: 'hpa myhero-app scales down after its stabilisation window', outcome: 'not observed', reason: 'not waited for: due around …' },
      ],
      rollbacks: [{ t: 59_000, name: 'uncordon node pi-1', ok: false, error: 'timed out after 300 s', command: 'kubectl --context pi uncordon pi-1' }],
    };
    expect(verdictLine(j)).toBe('PASS: 1 verdict(s) passed; NOT OBSERVED: hpa myhero-app scales down after its stabilisation window');
    const md = renderMarkdown(j);
    expect(md).toContain('| hpa myhero-app scales down after its stabilisation window | **NOT OBSERVED** | not waited for: due around … |');
    expect(md).toContain('| 59 | rollback uncordon node pi-1 | FAILED: timed out after 300 s; restore by hand: `kubectl --context pi uncordon pi-1` |');
    expect(renderHtml(j)).toContain('NOT OBSERVED');
  });

  it('HTML is self-contained and renders the timeline in a real browser', async () => {
    const html = renderHtml(journal);
    expect(html).not.toMatch(/<script|<link|src="http/);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.setContent(html);
    const series = await page.$$eval('svg.chart g.series', (gs) => gs.map((g) => `${g.getAttribute('data-series')}:${g.getAttribute('data-points')}`));
    expect(series).toEqual(['ready replicas:13', 'HPA replicas:13', 'HPA desired:13', 'error rate %:13']);
    const markers = await page.$$eval('svg.chart g.marker text', (ts) => ts.map((t) => t.textContent));
    expect(markers).toEqual(['pod-kill', 'rollout-restart', 'pod-kill', 'rollout-restart']);
    expect(await page.textContent('p.lead')).toBe('FAIL: failed votes within budget; likely cause');
    // The fault window is shaded on both charts.
    const bands = await page.$$eval('svg.chart g.band', (gs) => gs.map((g) => g.textContent));
    expect(bands).toEqual(['HTTP 500 abort on 50% of requests: myhero-app', 'HTTP 500 abort on 50% of requests: myhero-app']);
    expect(await page.textContent('body')).toContain('Stopping container <myhero-app>');
    expect(requests.filter((u) => !u.startsWith('about:'))).toEqual([]);
    const box = await page.$eval('svg.chart', (s) => s.getBoundingClientRect().width);
    expect(box).toBeGreaterThan(300);
  }, 60_000);

  it('pushes each action as a Grafana annotation tagged chaos, through the shared client: bearer or basic auth, credentials never in errors', async () => {
    const got: { auth?: string; body: { time: number; tags: string[]; text: string } }[] = [];
    let answer = 200;
    const grafana = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        if (req.url !== '/api/annotations' || req.method !== 'POST') return void res.writeHead(404).end();
        got.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ id: got.length, message: 'Annotation added' }));
      });
    });
    await new Promise<void>((r) => grafana.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(grafana.address() as AddressInfo).port}`;
    const token = 'glsa_chaosAnnotationToken0123456789';
    try {
      expect(await pushAnnotations(journal, createGrafanaClient({ url, auth: { kind: 'bearer', token } }))).toBe(2);
      expect(got.map((g) => g.auth)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
      expect(got[0]!.body).toEqual({
        time: Date.parse('2026-11-22T10:00:10.000Z'),
        tags: ['chaos', 'gameday', 'pod-kill'],
        text: 'Readiness probes keep failed votes within budget: pod-kill pod default/myhero-app-abc (grace 0 s)',
      });
      expect(await pushAnnotations(journal, createGrafanaClient({ url, auth: { kind: 'basic', user: 'admin', password: 'hunter2-admin' } }))).toBe(2);
      expect(got[2]!.auth).toBe(`Basic ${Buffer.from('admin:hunter2-admin').toString('base64')}`);
      answer = 403;
      await expect(pushAnnotations(journal, createGrafanaClient({ url, auth: { kind: 'bearer', token } }))).rejects.toThrow(`Grafana at ${url} refused the annotation (HTTP 403)`);
    } finally {
      await new Promise<void>((r) => grafana.close(() => r()));
    }
    const down = await pushAnnotations(journal, createGrafanaClient({ url, auth: { kind: 'bearer', token } })).catch((e: unknown) => (e as Error).message);
    expect(down).toContain(`cannot reach Grafana at ${url}`);
    expect(down).not.toContain(token);
  });

  it('a TLS failure pushing the annotations names the flag chaos has for a CA file (--grafana-ca-file)', async () => {
    // A TLS server with no certificate at all: every handshake fails, as one with an untrusted CA does.
    const grafana = createTlsServer({}, (_req, res) => res.end());
    const url = `https://127.0.0.1:${await listen(grafana, 0, '127.0.0.1', 'grafana')}`;
    const c = await startCluster({ objects: manifests(true) });
    try {
      await settle(c);
      const token = 'glsa_chaosTlsHintToken0123456789';
      writeFileSync(join(c.dir, 'token'), token);
      const podKill = ['chaos', 'pod-kill', '-n', 'default', '--kubeconfig', c.kubeconfig, '--selector', 'tier=app', '--count', '1', '--grace', '0', '--recover-within', '0', '--poll', '100ms', '--sample', '100ms'];
      const r = await runCli([...podKill, '--out', join(c.dir, 'out'), '--grafana-url', url, '--grafana-token-file', join(c.dir, 'token')]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(`TLS problem talking to Grafana at ${url}`);
      expect(r.stderr).toContain('pass --grafana-ca-file (or set NODE_EXTRA_CA_CERTS)');
      expect(r.stderr).not.toContain(token);
    } finally {
      grafana.close();
      await c.stop();
    }
  }, 60_000);
});
