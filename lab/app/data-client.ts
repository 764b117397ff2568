import { KEY_HEADER } from '../../lib/defaults.ts';

// How myhero-app talks to myhero-data: one HTTP call per request, with the data
// key, bounded by a timeout (the original had none and hung with data: pass
// none for the original flavour).

export interface DataAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

export interface DataClient {
  /** Throws on a network error or timeout (`err.name === 'TimeoutError'`). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<DataAnswer>;
}

export function createDataClient(baseUrl: string, key: string, timeoutMs?: number): DataClient {
  return {
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { [KEY_HEADER]: key, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(timeoutMs === undefined ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}

/** `/vote/Spider-Man` with the hero URL-encoded the way a browser would. */
export const votePath = (hero: string) => `/vote/${encodeURIComponent(hero)}`;
