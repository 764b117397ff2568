import { Agent, request } from 'node:http';

// One Prometheus-like scraper per target: a kept-alive connection, GET /metrics, the
// whole body read, the time from request to last byte in milliseconds.

export function createScraper(url: string): { scrape(): Promise<number>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL('/metrics', url);
  return {
    scrape: () =>
      new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const req = request(target, { agent, headers: { accept: 'text/plain' } }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => {
            if (res.statusCode !== 200) reject(new Error(`${target.href}: HTTP ${res.statusCode}`));
            else resolve(Number(process.hrtime.bigint() - started) / 1e6);
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      }),
    close: () => agent.destroy(),
  };
}

/** The value below which `p` of the sorted samples fall (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
