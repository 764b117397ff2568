import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EXIT, UserError, describeError } from './errors.ts';
import { readSecret, scrub } from './secrets.ts';

// A minimal JSON client for Grafana's HTTP API, shared by `dashboards push` and
// the chaos annotations. Network and TLS failures become one clear line;
// credentials (a token or basic auth) go only into the Authorization header and
// are scrubbed from anything that could be printed; a private CA is trusted
// through a CA file.

export type GrafanaAuth = { kind: 'bearer'; token: string } | { kind: 'basic'; user: string; password: string };

export interface GrafanaClientOptions {
  /** Grafana's root URL, including a sub-path if Grafana is served under one. */
  url: string;
  auth: GrafanaAuth;
  /** PEM CA bundle trusted for https (a private CA); NODE_EXTRA_CA_CERTS works too. */
  ca?: string;
  /** The command's flag for that CA file, named in the hint on a TLS failure (default --ca-file). */
  caFlag?: string;
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

/** One line for a failed connection, naming TLS problems as such and `caFlag` as the way to trust a private CA. */
export function connectionError(url: string, err: unknown, caFlag = '--ca-file'): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  // OpenSSL's messages span lines; the CLI prints one.
  const message = describeError(err).replace(/\s*\n\s*/g, ' ');
  if (/wrong version number/i.test(message)) {
    return new UserError(`TLS problem talking to Grafana at ${url}: the server does not answer TLS on this port (${code || 'wrong version number'}); is Grafana served over plain http://?`);
  }
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(message)) {
    return new UserError(
      `TLS problem talking to Grafana at ${url}: ${message}. If Grafana's certificate comes from a private CA, pass ${caFlag} (or set NODE_EXTRA_CA_CERTS); check that the URL's scheme and host match the certificate.`,
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
            res.on('error', (err) => reject(connectionError(opts.url, err, opts.caFlag)));
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
          if (opts.signal?.aborted) reject(new UserError('interrupted', EXIT.interrupted));
          else reject(new UserError(clean(connectionError(opts.url, err, opts.caFlag).message)));
        });
        req.end(payload);
      });
    },
  };
}

/** Where the credentials come from, as the flags of a command name them. */
export interface GrafanaAuthSources {
  /** File holding a service-account token (else env GRAFANA_TOKEN). */
  tokenFile: string;
  /** File holding user:password on its first line. */
  basicAuthFile: string;
  /** The flags' names, for messages (default --token-file / --basic-auth-file). */
  flags?: { token: string; basic: string };
}

/** The credentials the flags or GRAFANA_TOKEN give; undefined when none is given. */
export function readGrafanaAuth(src: GrafanaAuthSources): GrafanaAuth | undefined {
  const flags = src.flags ?? { token: '--token-file', basic: '--basic-auth-file' };
  if (src.tokenFile && src.basicAuthFile) throw new UserError(`give ${flags.token} or ${flags.basic}, not both`, 2);
  if (src.basicAuthFile) {
    const line = readSecret({ file: src.basicAuthFile, what: 'basic auth' }) ?? '';
    const colon = line.indexOf(':');
    if (colon < 1) throw new UserError(`${src.basicAuthFile} must hold user:password on its first line`, 2);
    return { kind: 'basic', user: line.slice(0, colon), password: line.slice(colon + 1) };
  }
  const token = readSecret({ file: src.tokenFile || undefined, env: ['GRAFANA_TOKEN'], what: 'Grafana token' });
  return token ? { kind: 'bearer', token } : undefined;
}

/** A PEM CA bundle to trust for Grafana's https certificate. */
export function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read CA bundle ${path}: ${describeError(err)}`, 2);
  }
}
