import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, listen } from '../../lib/net.ts';
import { startPrometheus, type RunningPrometheus } from '../../lib/promstack.ts';
import { probePrometheus } from '../probes/prometheus.ts';

// The Prometheus probe against a real Prometheus: an alert that fires, one that never does, a bad query.
let prom: RunningPrometheus;
beforeAll(async () => {
  prom = await startPrometheus({
    config: { global: { scrape_interval: '1s', evaluation_interval: '1s' }, rule_files: ['drill.yml'], scrape_configs: [] },
    files: {
      'drill.yml': 'groups:\n  - name: drill\n    rules:\n      - alert: ChaosDrill\n        expr: vector(1) > 0\n        for: 1s\n',
    },
  });
});
afterAll(() => prom?.stop());

const opts = { signal: new AbortController().signal, pollMs: 100 };

describe('prometheus probe on a real Prometheus', () => {
  it('passes when the alert fires within the deadline', async () => {
    const o = await probePrometheus({ url: prom.url, query: 'ALERTS{alertname="ChaosDrill",alertstate="firing"}', withinMs: 20_000 }, opts);
    expect(o).toMatchObject({ ok: true, value: 1 });
    expect(o.reason).toBe('ALERTS{alertname="ChaosDrill",alertstate="firing"} = 1 (want non-empty)');
  }, 30_000);

  it('compares a value with the threshold', async () => {
    expect((await probePrometheus({ url: prom.url, query: 'vector(3)', expect: '>= 2' }, opts)).ok).toBe(true);
    const low = await probePrometheus({ url: prom.url, query: 'vector(1)', expect: '>= 2' }, opts);
    expect(low).toMatchObject({ ok: false, reason: 'vector(1) = 1 (want >= 2)' });
  });

  it('fails with the reason when it never holds or the query is wrong', async () => {
    const never = await probePrometheus({ url: prom.url, query: 'ALERTS{alertname="Never"}', withinMs: 500 }, opts);
    expect(never.ok).toBe(false);
    expect(never.reason).toBe('ALERTS{alertname="Never"} = empty (want non-empty); not within 1 s');
    const bad = await probePrometheus({ url: prom.url, query: 'sum(' }, opts);
    expect(bad.ok).toBe(false);
    expect(bad.reason).toMatch(/^prometheus at http:\/\/127\.0\.0\.1:\d+: query failed: .*parse error/);
  });
});

describe('prometheus probe when there is no Prometheus to ask', () => {
  it('says it cannot reach Prometheus, naming the URL once', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const o = await probePrometheus({ url, query: 'up' }, opts);
    expect(o).toMatchObject({ ok: false, value: 'error' });
    expect(o.reason).toMatch(new RegExp(`^cannot reach Prometheus at ${url}: .*ECONNREFUSED`));
  });

  it('says a server that answers something else is not Prometheus', async () => {
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
    const url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1', 'not-prometheus')}`;
    try {
      const o = await probePrometheus({ url, query: 'up' }, opts);
      expect(o).toMatchObject({ ok: false, value: 'error' });
      expect(o.reason).toBe(`${url} did not answer like a Prometheus API (HTTP 200 on /api/v1/query): <html>login</html>`);
    } finally {
      server.close();
    }
  });
});
