import { UserError, describeError } from '../lib/errors.ts';
import { DEFAULT_SUBSTITUTION, dashboardQueries, defaultVariableValues, substitute, type FoundQuery, type Substitution } from './queries.ts';

// Run every query of a set of dashboards, macros and variables substituted as
// Grafana would, against a Prometheus query API: a parse or execution error is
// a broken panel; the number of series returned says whether it shows data.

export interface QueryOutcome extends FoundQuery {
  dashboard: string;
  /** The expression as sent, after substitution. */
  sent: string;
  /** Prometheus's error (bad_data = does not parse; execution = e.g. many-to-many matching). */
  error?: string;
  /** Series (or scalar) in the instant-query result. */
  series: number;
}

export interface CheckOptions {
  /** Macro values; variables default to what each dashboard opens with, overridable here. */
  substitution?: Partial<Omit<Substitution, 'variables'>>;
  variables?: Record<string, string>;
  signal?: AbortSignal;
}

interface ApiAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

async function instantQuery(url: string, expr: string, signal?: AbortSignal): Promise<ApiAnswer> {
  let res: Response;
  try {
    res = await fetch(`${url.replace(/\/+$/, '')}/api/v1/query`, {
      method: 'POST',
      body: new URLSearchParams({ query: expr }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new UserError(`cannot reach Prometheus at ${url}: ${describeError((err as { cause?: unknown }).cause ?? err)}`);
  }
  const text = await res.text();
  try {
    return JSON.parse(text) as ApiAnswer;
  } catch {
    throw new UserError(`${url} did not answer like a Prometheus query API (HTTP ${res.status}): ${text.slice(0, 120)}`);
  }
}

function seriesIn(answer: ApiAnswer): number {
  const result = answer.data?.result;
  if (answer.data?.resultType === 'scalar' || answer.data?.resultType === 'string') return 1;
  return Array.isArray(result) ? result.length : 0;
}

export async function runQueries(
  url: string,
  dashboards: readonly { name: string; json: unknown }[],
  opts: CheckOptions = {},
): Promise<QueryOutcome[]> {
  const outcomes: QueryOutcome[] = [];
  for (const d of dashboards) {
    const sub: Substitution = {
      ...DEFAULT_SUBSTITUTION,
      ...opts.substitution,
      variables: { ...defaultVariableValues(d.json), ...opts.variables },
    };
    for (const q of dashboardQueries(d.json)) {
      const sent = substitute(q.expr, sub);
      const answer = await instantQuery(url, sent, opts.signal);
      outcomes.push({
        ...q,
        dashboard: d.name,
        sent,
        series: answer.status === 'success' ? seriesIn(answer) : 0,
        ...(answer.status === 'success' ? {} : { error: `${answer.errorType ?? 'error'}: ${answer.error ?? 'unknown'}` }),
      });
    }
  }
  return outcomes;
}
