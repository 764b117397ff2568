import { createServer, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from './errors.ts';

/** An ephemeral TCP port free on the host right now (tests use this instead of fixed ports). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** `host` as it stands in a URL: an IPv6 address goes in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** Listen on host:port (0 = any free port) and return the port bound; a failure is one-line UserError. */
export function listen(server: Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UserError(`port ${port} on ${host} is already in use (wanted for ${what})`)
          : new UserError(`cannot listen on ${host}:${port} for ${what}: ${err.message}`),
      );
    server.once('error', failed);
    server.listen(port, host, () => {
      // Only the listen itself is ours to report; later errors go to the server's own handlers.
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Throw a one-line UserError when a port is already taken. Port 0 is always free. */
export async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await listen(probe, port, host, what);
  await new Promise((resolve) => probe.close(resolve));
}

/** Poll a URL until it answers with a status below 500, or throw after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs = 10_000, init?: RequestInit): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms: ${last}`);
}
