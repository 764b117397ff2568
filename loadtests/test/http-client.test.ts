import { createRequire } from 'node:module';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/net.ts';
import { AUTOCANNON_VERSION, autocannonVersion, openConnections } from '../http-client.ts';

// The contract of the HTTP client adapter, and through it of the autocannon
// internals it relies on (http-client.ts `ClientInternals`): if autocannon is
// upgraded, these fail before any figure can be wrong. Run against raw TCP
// servers that answer the way real servers do: keep-alive, `Connection: close`
// (the original myhero's Werkzeug), HTTP/1.0 without keep-alive, a reset, silence.

interface RawServer {
  url: string;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A raw HTTP/1.x server: `answer` decides, per request, what to write and whether to close. */
async function rawServer(answer: (socket: Socket, n: number) => void): Promise<RawServer> {
  const state = { connections: 0, requests: 0 };
  const server = createServer((socket) => {
    state.connections += 1;
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
        pending = pending.slice(end + 4);
        answer(socket, state.requests++);
      }
    });
    socket.on('error', () => socket.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return state.connections;
    },
    get requests() {
      return state.requests;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const VOTE = '{"result": "vote submitted"}';
const http = (status: string, headers: string, body = VOTE) => `${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${headers}\r\n${body}`;

/** Drive `connections` connections until each sent `perConnection` requests; record what the adapter reported, in order. */
async function drive(url: string, connections: number, perConnection: number, timeoutMs = 10_000) {
  const events: string[] = [];
  const out = { answered: 0, statuses: [] as number[], bodies: new Set<string>(), failed: {} as Record<string, number>, reconnects: 0, events };
  await new Promise<void>((resolve) => {
    const sent = new Map<number, number>();
    let finished = false;
    const maybeDone = () => {
      if (finished || [...Array(connections).keys()].some((i) => (sent.get(i) ?? 0) < perConnection)) return;
      finished = true;
      // Let the last answers' bookkeeping run, then close.
      setImmediate(() => void pool.close().then(resolve));
    };
    const pool = openConnections(
      { url, headers: { key: 'K' }, requests: [{ method: 'POST', path: '/vote/Deadpool' }], connections, timeoutMs, maxDurationMs: 30_000 },
      {
        idle(c) {
          events.push(`idle ${c.index}`);
          const n = sent.get(c.index) ?? 0;
          if (n < perConnection && !c.busy) {
            sent.set(c.index, n + 1);
            c.send();
          } else maybeDone();
        },
        answered(c, status, body) {
          events.push(`answered ${c.index}`);
          out.answered += 1;
          out.statuses.push(status);
          out.bodies.add(body);
        },
        failed(c, cls) {
          events.push(`failed ${c.index} ${cls}`);
          out.failed[cls] = (out.failed[cls] ?? 0) + 1;
        },
        reconnected: () => (out.reconnects += 1),
      },
    );
  });
  return out;
}

describe('HTTP client adapter (autocannon internals)', () => {
  it(`runs on autocannon ${AUTOCANNON_VERSION}, whose client has the internals the adapter replaces and calls`, () => {
    expect(autocannonVersion).toBe(AUTOCANNON_VERSION);
    const Client = createRequire(import.meta.url)('autocannon/lib/httpClient.js') as { prototype: Record<string, unknown> };
    for (const m of ['_doRequest', '_resetConnection', '_connect', 'destroy']) expect(typeof Client.prototype[m], m).toBe('function');
  });

  it('keeps a keep-alive connection: every answer reported, then the connection is idle again', async () => {
    const s = await rawServer((socket) => socket.write(http('HTTP/1.1 200 OK', 'Connection: keep-alive\r\n')));
    const r = await drive(s.url, 2, 20);
    expect(r).toMatchObject({ answered: 40, failed: {}, reconnects: 0 });
    expect(s.connections).toBe(2);
    expect(s.requests).toBe(40);
    expect([...r.bodies]).toEqual([VOTE]);
    // The answer comes before the connection is offered again, so a voter's think time counts from it.
    const c0 = r.events.filter((e) => e.endsWith(' 0'));
    expect(c0.slice(0, 5)).toEqual(['idle 0', 'answered 0', 'idle 0', 'answered 0', 'idle 0']);
  });

  it('opens a new connection after `Connection: close` without sending on the closing one: no phantom failure', async () => {
    const s = await rawServer((socket) => socket.end(http('HTTP/1.1 200 OK', 'Connection: close\r\n')));
    const r = await drive(s.url, 1, 25);
    expect(r).toMatchObject({ answered: 25, failed: {}, reconnects: 24 });
    // The server saw exactly the requests that were answered, one connection each (and the
    // next connection, opened as soon as the last answer came).
    expect(s.requests).toBe(25);
    expect(s.connections).toBe(26);
  });

  it('treats an HTTP/1.0 answer without keep-alive the same way', async () => {
    const s = await rawServer((socket) => socket.end(http('HTTP/1.0 200 OK', '')));
    const r = await drive(s.url, 2, 10);
    expect(r).toMatchObject({ answered: 20, failed: {}, reconnects: 18 });
    expect(s.requests).toBe(20);
  });

  it('counts a connection reset while a request is in flight as reset, and carries on', async () => {
    const s = await rawServer((socket, n) => (n % 3 === 1 ? socket.resetAndDestroy() : socket.write(http('HTTP/1.1 200 OK', ''))));
    const r = await drive(s.url, 1, 9);
    expect(r.answered + (r.failed.reset ?? 0)).toBe(9);
    expect(r.failed.reset).toBe(3);
    expect(s.requests).toBe(9);
  });

  it('counts a server that closes without answering as reset', async () => {
    const s = await rawServer((socket, n) => (n % 2 === 1 ? socket.end() : socket.write(http('HTTP/1.1 200 OK', ''))));
    const r = await drive(s.url, 1, 6);
    expect(r).toMatchObject({ answered: 3, failed: { reset: 3 } });
  });

  it('counts silence past the timeout as timeout, and refused connections as refused', async () => {
    const silent = await rawServer((socket, n) => (n === 0 ? undefined : socket.write(http('HTTP/1.1 200 OK', ''))));
    const t = await drive(silent.url, 1, 3, 1000);
    expect(t).toMatchObject({ answered: 2, failed: { timeout: 1 } });

    const port = await freePort();
    const refused = await drive(`http://127.0.0.1:${port}`, 1, 2);
    expect(refused).toMatchObject({ answered: 0, failed: { refused: 2 } });
  });
});
