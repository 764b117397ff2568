import { describe, expect, it } from 'vitest';
import { startAlertmanager, startPrometheus } from '../promstack.ts';

describe('real Prometheus and Alertmanager on loopback', () => {
  it('starts Prometheus, answers PromQL and reports PromQL errors', async () => {
    const prom = await startPrometheus({
      config: { global: { scrape_interval: '1s' }, scrape_configs: [] },
    });
    try {
      expect(await prom.query('vector(42)')).toEqual([{ metric: {}, value: 42 }]);
      await expect(prom.query('sum(')).rejects.toThrow(/PromQL error/);
    } finally {
      await prom.stop();
    }
  });

  it('starts a standalone Alertmanager', async () => {
    const am = await startAlertmanager({ config: { route: { receiver: 'null' }, receivers: [{ name: 'null' }] } });
    try {
      const res = await fetch(`${am.url}/api/v2/status`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { cluster: { status: string } }).cluster.status).toBe('disabled');
    } finally {
      await am.stop();
    }
  });
});
