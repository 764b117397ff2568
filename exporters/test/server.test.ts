import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBoard, type TestBoard } from './fixtures/exporter.ts';

let board: TestBoard;
beforeAll(async () => {
  board = await startBoard('pi4');
});
afterAll(() => board.stop());

describe('HTTP endpoints', () => {
  it('/healthz answers ok', async () => {
    const res = await fetch(`${board.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('/ is a landing page linking /metrics and naming the collectors and their metrics', async () => {
    const res = await fetch(`${board.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    expect(html).toContain('<a href="/metrics">');
    for (const text of ['cpu', 'thermal', 'freq', 'vcgencmd', 'rpi_cpu_temperature_celsius', 'rpi_throttled']) expect(html).toContain(text);
  });

  it('/metrics ignores a query string, HEAD gets headers only', async () => {
    expect((await fetch(`${board.url}/metrics?x=1`)).status).toBe(200);
    const head = await fetch(`${board.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await fetch(`${board.url}/nope`)).status).toBe(404);
    const post = await fetch(`${board.url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
