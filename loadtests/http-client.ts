import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { classifyError, type ErrorClass } from './votes.ts';

// The adapter between the load engine and its HTTP client (autocannon). The
// engine sees connections that are idle (may send), answered (status and body),
// or failed (a request in flight was lost, by class); it decides *when* each
// connection sends. Everything this file takes from autocannon beyond its typed
// API is listed in `ClientInternals` and pinned by test/http-client.test.ts; the
// module refuses any autocannon version other than the one that contract was
// checked against.
//
// Why autocannon and not undici: undici 6.29 (the line that supports Node 20.6)
// kept pace with raw autocannon on keep-alive connections, but on a
// `Connection: close` server it reached a median of 0.79× raw autocannon's rate
// (0.61–0.75× per CPU-second), below the 0.90 the runner must keep (BENCHMARKS.md).

/** The autocannon version whose internals `ClientInternals` describes. */
export const AUTOCANNON_VERSION = '8.0.0';
export const autocannonVersion = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
if (autocannonVersion !== AUTOCANNON_VERSION) {
  throw new Error(
    `loadtests/http-client.ts drives autocannon ${AUTOCANNON_VERSION} through internals of its lib/httpClient.js; autocannon ${autocannonVersion} is installed. ` +
      `Pin autocannon to ${AUTOCANNON_VERSION}, or re-check ClientInternals against the new version and update the contract test.`,
  );
}

/**
 * The parts of autocannon@8's client (lib/httpClient.js) used beyond its typed API:
 * - `_doRequest` writes the next request of the client's sequence; autocannon calls it on
 *   every connect and after every response. Replaced, so the engine decides when to send.
 * - `_resetConnection` destroys the socket and connects again (then calls `_doRequest`).
 * - `conn` is the current socket, to count reconnects.
 * - events `headers` (the parser's info, with `shouldKeepAlive`), `timeout` (emitted after
 *   the connection was replaced) and `connError`; `response` is typed.
 * - the `verifyBody` option is called with the body synchronously after `response` and the
 *   `_doRequest` that follows it.
 */
interface ClientInternals {
  _doRequest: () => void;
  _resetConnection: () => void;
  conn: object;
}

/** One HTTP connection (autocannon client); requests go out in the order of the sequence. */
export interface Connection {
  readonly index: number;
  /** A request is in flight. */
  readonly busy: boolean;
  /** Requests sent so far. */
  readonly sent: number;
  /** Index in the pool's `requests` of the request this connection sends next. */
  readonly next: number;
  /** Send the next request of the sequence now (only while idle). */
  send(): void;
}

export interface ConnectionEvents {
  /** The connection can take a request: connected, answered on a kept-alive connection, or reconnected. */
  idle(c: Connection): void;
  /** The answer to the request in flight, classified by the caller. */
  answered(c: Connection, status: number, body: string): void;
  /** The request in flight got no answer. */
  failed(c: Connection, cls: ErrorClass): void;
  /** A request went out on a new connection (the server closed the previous one, or it failed). */
  reconnected(c: Connection): void;
  /** Connecting failed with nothing in flight (e.g. refused before the first request); the client tries again. */
  connectFailed?(c: Connection): void;
}

export interface ConnectionPool {
  /** Close every connection; requests still in flight are reported as `aborted`. Resolves once closed. */
  close(): Promise<void>;
  /** Settles when the client stops: rejects if it could not run at all (e.g. invalid options). */
  readonly done: Promise<void>;
}

export interface PoolOptions {
  url: string;
  headers: Record<string, string>;
  /**
   * The request cycle. Connection k cycles through its own window of it, starting at a different
   * place than its neighbours, so connections that send only a few requests each (an open model
   * with many connections) still spread over the whole cycle.
   */
  requests: readonly { method: 'GET' | 'POST'; path: string }[];
  connections: number;
  timeoutMs: number;
  /** Upper bound of the pool's life: a safety net, the engine closes it itself. */
  maxDurationMs: number;
}

/**
 * autocannon builds every connection's requests into buffers of its own: a thousand connections
 * with 200 requests each took seconds before the first request. Windows of the cycle keep the
 * buffers built at about this many in all.
 */
const REQUEST_BUFFERS = 4000;

/** Open `connections` connections; each calls `idle` once connected. */
export function openConnections(opts: PoolOptions, on: ConnectionEvents): ConnectionPool {
  const conns: Conn[] = [];
  const cycle = opts.requests.length;
  const window = Math.min(cycle, Math.max(4, Math.ceil(REQUEST_BUFFERS / Math.max(1, opts.connections))));
  /** Connection k's window starts here in the cycle. */
  const startOf = (k: number) => (k * window) % cycle;
  // autocannon calls verifyBody with the body of the client whose 'response' event came just before.
  let answering: ((body: string) => void) | undefined;

  class Conn implements Connection {
    readonly index = conns.length;
    busy = false;
    sent = 0;
    /** The answer said the connection closes after it (Connection: close, HTTP/1.0). */
    private closing = false;
    private status = 0;
    private answerPending = false;
    /** A _doRequest call while a request was in flight: autocannon replaced the connection. */
    private abandoned = false;
    private lastConn: object | undefined;
    private readonly write: () => void;
    private readonly deliver = (body: string) => this.onBody(body);

    constructor(private readonly client: autocannon.Client & ClientInternals) {
      this.write = client._doRequest.bind(client);
      client._doRequest = () => this.onDoRequest();
      const events = client as unknown as NodeJS.EventEmitter;
      events.on('headers', (info: { shouldKeepAlive?: boolean }) => (this.closing = info.shouldKeepAlive === false));
      client.on('response', (status: number) => {
        this.status = status;
        this.answerPending = true;
        answering = this.deliver;
      });
      // After a timeout autocannon has already asked for a request on the new connection;
      // after a connection error it connects again and asks then.
      events.on('timeout', () => this.lose('timeout', true));
      events.on('connError', (err: unknown) => {
        if (this.busy) this.lose(classifyError(err), false);
        else on.connectFailed?.(this);
      });
    }

    get next(): number {
      return (startOf(this.index) + (this.sent % window)) % cycle;
    }

    send(): void {
      if (this.busy) throw new Error(`connection ${this.index} is busy`);
      if (this.lastConn && this.lastConn !== this.client.conn) on.reconnected(this);
      this.lastConn = this.client.conn;
      this.busy = true;
      this.sent += 1;
      this.write();
    }

    /** autocannon asks for the next request: after connecting, after a response, or after replacing the connection. */
    private onDoRequest(): void {
      if (this.answerPending) return; // idle follows the answer, in onBody
      if (this.busy) {
        // The request in flight is gone with the old connection. A timeout says so synchronously
        // after this call; anything else (the server closed the connection) is a reset.
        this.abandoned = true;
        queueMicrotask(() => {
          if (this.abandoned) this.lose('reset', true);
        });
        return;
      }
      on.idle(this);
    }

    onBody(body: string): void {
      this.answerPending = false;
      this.busy = false;
      on.answered(this, this.status, body);
      if (this.closing) {
        // Do not write on a connection the server is closing: open the next one now.
        this.closing = false;
        this.client._resetConnection();
      } else on.idle(this);
    }

    /**
     * The request in flight failed; with nothing in flight (an idle connection closed or timed
     * out) there is nothing to count. `thenIdle`: the replacement connection is ready now.
     */
    lose(cls: ErrorClass, thenIdle: boolean): void {
      if (!this.busy) return;
      this.busy = false;
      this.abandoned = false;
      on.failed(this, cls);
      if (thenIdle) on.idle(this);
    }
  }

  const verifyBody = (body: unknown) => {
    const c = answering;
    answering = undefined;
    c?.(typeof body === 'string' ? body : String(body));
    return true;
  };

  let settle: (err?: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve())));
  const instance = autocannon(
    {
      url: opts.url,
      connections: opts.connections,
      duration: Math.ceil(opts.maxDurationMs / 1000),
      timeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)),
      // autocannon checks for stop() on this tick: 100 ms keeps closing quick.
      sampleInt: 100,
      headers: opts.headers,
      // One request to build per connection here; each gets its own window in setupClient.
      requests: opts.requests.slice(0, 1).map((r) => ({ method: r.method, path: r.path })),
      verifyBody,
      setupClient: (client) => {
        const k = conns.length;
        client.setRequests(Array.from({ length: window }, (_, j) => opts.requests[(startOf(k) + j) % cycle]!).map((r) => ({ method: r.method, path: r.path })));
        conns.push(new Conn(client as autocannon.Client & ClientInternals));
      },
    },
    (err: unknown) => settle(err),
  );
  return {
    done,
    async close() {
      for (const c of conns) c.lose('aborted', false);
      instance.stop();
      await done;
    },
  };
}
