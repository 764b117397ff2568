import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UserError, describeError } from '../lib/errors.ts';
import { scrub } from '../lib/secrets.ts';

// A minimal JSON client for Grafana's HTTP API. Network and TLS failures
// become one clear line; credentials go only into the Authorization header
// and are scrubbed from anything that could be printed.

export type GrafanaAuth = { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };

export interface GrafanaClientOptions {
  /** Grafana's root URL, including a sub-path if Grafana is served under one. */
  url: string;
  auth: GrafanaAuth;
  /** PEM CA bundle trusted for https (a private CA); NODE_EXTRA_CA_CERTS works too. */
  ca?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface GrafanaResponse {
  status: number;
  body: unknown;
}

export interface GrafanaClient {
  url: string;
  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<GrafanaResponse>;
  /** Remove the credentials from a text before it is shown. */
  scrub(text: string): string;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

export function authorizationHeader(auth: GrafanaAuth): string {
  return auth.kind === 'bearer'
    ? `Bearer ${auth.token}`
    : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
}

/** One line for a failed connection, naming TLS problems as such. */
export function connectionError(url: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // OpenSSL's messages span lines; the CLI prints one.
  const message = describeError(err).replace(/\s*\n\s*/g, ' ');
  if (/wrong version number/i.test(message)) {
    return new UserError(`TLS problem talking to Grafana at ${url}: the server does not answer TLS on this port (${code || 'wrong version number'}); is Grafana served over plain http://?`);
  }
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(message)) {
    return new UserError(
      `TLS problem talking to Grafana at ${url}: ${message}. If Grafana's certificate comes from a private CA, pass --ca-file (or set NODE_EXTRA_CA_CERTS); check that the URL's scheme and host match the certificate.`,
    );
  }
  return new UserError(`cannot reach Grafana at ${url}: ${message}`);
}

export function createGrafanaClient(opts: GrafanaClientOptions): GrafanaClient {
  const base = new URL(opts.url.replace(/\/+$/, ''));
  const secrets = opts.auth.kind === 'bearer' ? [opts.auth.token] : [opts.auth.password, authorizationHeader(opts.auth)];
  const clean = (text: string) => scrub(text, secrets);
  const timeoutMs = opts.timeoutMs ?? 15_000;

  return {
    url: opts.url,
    scrub: clean,
    request(method, path, body) {
      const target = new URL(`${base.pathname.replace(/\/$/, '')}${path}`, base);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<GrafanaResponse>((resolve, reject) => {
        const req = send(
          target,
          {
            method,
            headers: {
              accept: 'application/json',
              authorization: authorizationHeader(opts.auth),
              ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            },
            ...(opts.ca ? { ca: opts.ca } : {}),
            timeout: timeoutMs,
            signal: opts.signal,
          },
          (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err) => reject(connectionError(opts.url, err)));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = text;
              try {
                parsed = text ? JSON.parse(text) : undefined;
              } catch {
                /* not JSON: keep the text for the error message */
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', (err) => {
          if (opts.signal?.aborted) reject(new UserError('interrupted', 130));
          else reject(new UserError(clean(connectionError(opts.url, err).message)));
        });
        req.end(payload);
      });
    },
  };
}
