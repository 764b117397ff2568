import { UserError, describeError } from './errors.ts';

// A small client of the Prometheus HTTP API (/api/v1): instant and range
// queries, label values, series and metadata reads. A query Prometheus refuses
// (bad_data, execution) comes back as an answer with `error`, for the caller to
// report; Prometheus unreachable or answering something that is not its API
// throws a UserError (exit 3: the run could not be judged).

export interface Sample {
  metric: Record<string, string>;
  /** [unix seconds, value] pairs: one for an instant vector, one per step for a matrix. */
  values: [number, string][];
}

export interface QueryAnswer {
  resultType?: 'vector' | 'matrix' | 'scalar' | 'string';
  /** Vector and matrix results, and a scalar or string as one label-less sample. */
  result: Sample[];
  /** Prometheus's own error text, prefixed by its type: `bad_data: parse error ...`. */
  error?: string;
}

export interface PrometheusApi {
  url: string;
  /** Instant query at `time` (unix seconds). */
  instant(expr: string, time: number): Promise<QueryAnswer>;
  /** Range query over [start, end] (unix seconds) at `step` seconds. */
  range(expr: string, start: number, end: number, step: number): Promise<QueryAnswer>;
  /** Values of `label` among the series matching `match` (all series when absent) in [start, end]. */
  labelValues(label: string, opts: { match?: string; start: number; end: number }): Promise<Listing<string>>;
  /** Label sets of the series matching `match` in [start, end]. */
  series(match: string, start: number, end: number): Promise<Listing<Record<string, string>>>;
  /** Label names of the series in [start, end]. */
  labelNames(start: number, end: number): Promise<Listing<string>>;
}

/** A metadata read: its items, or Prometheus's reason for refusing it (e.g. a bad `match[]`). */
export interface Listing<T> {
  items: T[];
  error?: string;
}

interface Envelope {
  status?: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: unknown;
}

export interface ApiOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

export function prometheusApi(baseUrl: string, opts: ApiOptions = {}): PrometheusApi {
  const url = baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 30_000;

  async function call(path: string, params: URLSearchParams, method: 'GET' | 'POST'): Promise<Envelope> {
    const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res =
        method === 'POST'
          ? await fetch(`${url}${path}`, { method, body: params, signal })
          : await fetch(`${url}${path}?${params.toString()}`, { signal });
    } catch (err) {
      opts.signal?.throwIfAborted();
      throw new UserError(`cannot reach Prometheus at ${url}: ${describeError((err as { cause?: unknown }).cause ?? err)}`);
    }
    const text = await res.text();
    try {
      return JSON.parse(text) as Envelope;
    } catch {
      throw new UserError(`${url} did not answer like a Prometheus API (HTTP ${res.status} on ${path}): ${text.slice(0, 120)}`);
    }
  }

  const refused = (e: Envelope) => `${e.errorType ?? 'error'}: ${e.error ?? 'unknown'}`;

  async function query(path: string, params: URLSearchParams): Promise<QueryAnswer> {
    const e = await call(path, params, 'POST');
    if (e.status !== 'success') return { result: [], error: refused(e) };
    const data = e.data as { resultType: QueryAnswer['resultType']; result: unknown };
    const raw = data.result;
    if (data.resultType === 'scalar' || data.resultType === 'string') {
      return { resultType: data.resultType, result: [{ metric: {}, values: [raw as [number, string]] }] };
    }
    const rows = (raw ?? []) as { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
    return { resultType: data.resultType, result: rows.map((r) => ({ metric: r.metric, values: r.values ?? (r.value ? [r.value] : []) })) };
  }

  async function metadata<T>(path: string, params: URLSearchParams): Promise<Listing<T>> {
    const e = await call(path, params, 'GET');
    return e.status === 'success' ? { items: (e.data ?? []) as T[] } : { items: [], error: refused(e) };
  }

  const window = (start: number, end: number) => ({ start: String(start), end: String(end) });

  return {
    url,
    instant: (expr, time) => query('/api/v1/query', new URLSearchParams({ query: expr, time: String(time) })),
    range: (expr, start, end, step) =>
      query('/api/v1/query_range', new URLSearchParams({ query: expr, ...window(start, end), step: String(step) })),
    labelValues: (label, o) =>
      metadata(`/api/v1/label/${encodeURIComponent(label)}/values`, new URLSearchParams({ ...(o.match ? { 'match[]': o.match } : {}), ...window(o.start, o.end) })),
    series: (match, start, end) => metadata('/api/v1/series', new URLSearchParams({ 'match[]': match, ...window(start, end) })),
    labelNames: (start, end) => metadata('/api/v1/labels', new URLSearchParams(window(start, end))),
  };
}
