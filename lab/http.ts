import { createServer, type IncomingMessage, type Server } from 'node:http';
import { BODIES, KEY_HEADER, type TwinFlavour } from '../lib/defaults.ts';
import { listen, urlHost } from '../lib/net.ts';
import type { Tracing } from './tracing.ts';

// A tiny router on node:http shared by the twin's services: route templates
// like `/vote/:hero` (the template is also the metrics `route` label), JSON
// and text replies, key checks with the original 400/401 bodies, and a
// graceful close (stop accepting, let in-flight requests finish). The
// `original` flavour answers the way the original Flask services do under
// Werkzeug: `Connection: close` on every answer, JSON pretty-printed with
// sorted keys, HTML error pages for 404/405/500.

export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** A JSON reply's value, so the original flavour can print it its way. */
  value?: unknown;
}

export interface Request {
  raw: IncomingMessage;
  method: string;
  /** The matched route template, e.g. `/vote/:hero`. */
  route: string;
  params: Record<string, string>;
  url: URL;
  header(name: string): string | undefined;
  /** The request body as text (at most 64 KiB). */
  text(): Promise<string>;
}

export type Handler = (req: Request) => Reply | Promise<Reply>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body: JSON.stringify(body), value: body, headers: { 'content-type': 'application/json', ...headers } };
}

/** The value with object keys sorted, recursively (Python's `sort_keys=True`). */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** Flask's jsonify as the original runs it: indent 4, sorted keys, a final newline. */
const flaskJson = (value: unknown): string => `${JSON.stringify(sortKeys(value), null, 4)}\n`;

const WERKZEUG_PAGES: Record<number, [title: string, text: string]> = {
  404: ['Not Found', 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.'],
  405: ['Method Not Allowed', 'The method is not allowed for the requested URL.'],
  500: ['Internal Server Error', 'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.'],
};

/** Werkzeug's HTML error page, as the original answers an unknown route (404), a wrong method (405) or a crash (500). */
function htmlError(status: 404 | 405 | 500, headers: Record<string, string> = {}): Reply {
  const [title, explanation] = WERKZEUG_PAGES[status]!;
  return text(status, `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${explanation}</p>\n`, undefined, headers);
}

/** Flask's default content type for a plain string return. */
export function text(status: number, body: string, contentType = 'text/html; charset=utf-8', headers: Record<string, string> = {}): Reply {
  return { status, body, headers: { 'content-type': contentType, ...headers } };
}

/** The original key check: no `key` header → 400, wrong key → 401, else undefined (go on). */
export function checkKey(req: Request, expected: string): Reply | undefined {
  const got = req.header(KEY_HEADER);
  if (got === undefined) return json(400, BODIES.missingKey);
  if (got !== expected) return json(401, BODIES.invalidKey);
  return undefined;
}

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
}

/** Label used for requests that matched no route, so scanners cannot blow up label cardinality. */
const UNMATCHED_ROUTE = 'unmatched';

export class Router {
  private routes: Route[] = [];

  on(method: string, template: string, handler: Handler): this {
    const keys: string[] = [];
    const source = template
      .split('/')
      .map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        keys.push(part.slice(1));
        return '([^/]+)';
      })
      .join('/');
    this.routes.push({ method, template, pattern: new RegExp(`^${source}$`), keys, handler });
    return this;
  }

  /** The route for a method and path; `allowed` lists methods when the path matches but the method does not. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | { template: string; allowed: string[] } | undefined {
    let pathMatch: { template: string; allowed: string[] } | undefined;
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method === method) {
        const params: Record<string, string> = {};
        route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
        return { route, params };
      }
      pathMatch ??= { template: route.template, allowed: [] };
      pathMatch.allowed.push(route.method);
    }
    return pathMatch;
  }
}

export interface ServeOptions {
  host: string;
  port: number;
  router: Router;
  /** Called once per answered request with the route template, for RED metrics. */
  onResponse?: (route: string, method: string, status: number, seconds: number) => void;
  /** Headers added to every reply (the app's CORS headers). */
  headers?: Record<string, string>;
  onError?: (err: unknown) => void;
  /** Server spans continuing an incoming `traceparent` header (scrapes of /metrics are not traced). */
  tracing?: Tracing;
  /** `original`: Connection: close, Flask's JSON, HTML error pages. Default hardened. */
  flavour?: TwinFlavour;
}

export interface HttpService {
  server: Server;
  url: string;
  port: number;
  /** Stop accepting, wait for in-flight requests (force-close after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

const BODY_LIMIT = 64 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function serve(opts: ServeOptions): Promise<HttpService> {
  let closing = false;
  const original = opts.flavour === 'original';
  const server = createServer(async (raw, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(raw.url ?? '/', 'http://localhost');
    const method = raw.method ?? 'GET';
    const found = (() => {
      try {
        return opts.router.match(method, url.pathname);
      } catch {
        return undefined; // malformed percent-encoding
      }
    })();
    let route = UNMATCHED_ROUTE;
    let reply: Reply;
    try {
      if (!found) reply = original ? htmlError(404) : json(404, { Error: 'Not Found' });
      else if ('allowed' in found) {
        route = found.template;
        const allow = { allow: found.allowed.join(', ') };
        reply = original ? htmlError(405, allow) : json(405, { Error: 'Method Not Allowed' }, allow);
      } else {
        const { route: matched, params } = found;
        route = matched.template;
        const header = (name: string) => {
          const v = raw.headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        };
        const request: Request = { raw, method, route, params, url, header, text: () => readBody(raw) };
        const handle = async () => matched.handler(request);
        reply =
          opts.tracing && route !== '/metrics'
            ? await opts.tracing.span(`${method} ${route}`, 'server', header('traceparent'), handle)
            : await handle();
      }
    } catch (err) {
      opts.onError?.(err);
      reply = original ? htmlError(500) : json(500, { Error: 'Internal Server Error' });
    }
    // The original closes every connection; while closing, in-flight answers end their keep-alive
    // connection so the close can complete.
    const connection: Record<string, string> = original || closing ? { connection: 'close' } : {};
    const body = original && reply.value !== undefined ? flaskJson(reply.value) : reply.body;
    res.writeHead(reply.status, { ...opts.headers, ...reply.headers, ...connection, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    opts.onResponse?.(route, method, reply.status, Number(process.hrtime.bigint() - started) / 1e9);
  });
  // Load tests open many keep-alive connections; keep the defaults but never hang a close on idle sockets.
  server.keepAliveTimeout = 5000;
  const port = await listen(server, opts.port, opts.host, 'a myhero service');
  return {
    server,
    port,
    url: `http://${urlHost(opts.host)}:${port}`,
    close(graceMs = 5000) {
      closing = true;
      return new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
