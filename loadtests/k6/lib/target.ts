import { heroOptions } from '../../votes.ts';
import type { Answer } from './classify.ts';

// What setup() learns from the target before any load: whether it answers at all,
// whether the key is right, and which heroes it offers. A problem here stops the
// run with one line instead of being counted as load.

export interface SetupAnswer extends Answer {
  /** k6's error text for a request that got no HTTP answer. */
  error: string;
}

/** One line describing why a setup request failed, or undefined when it answered 200. */
export function setupProblem(target: string, what: string, a: SetupAnswer): string | undefined {
  if (a.status === 200) return undefined;
  if (a.status === 0) return `target ${target} unreachable (${what}): ${a.error || `k6 error ${a.error_code}`}`;
  if (a.status === 400 || a.status === 401) {
    return `authentication failed: ${what} answered HTTP ${a.status} ${bodyText(a.body)}; set MYHERO_APP_KEY to the app's key (myhero_app_key)`;
  }
  return `${what} answered HTTP ${a.status} ${bodyText(a.body)}`;
}

function bodyText(body: unknown): string {
  return typeof body === 'string' ? body.trim().slice(0, 120) : '';
}

/** The hero names of a GET /options answer (the runner's reading of it), at least one. */
export function parseOptions(body: unknown): string[] {
  const options = heroOptions(String(body));
  if (!options) throw new Error('GET /options did not answer {"options": [...]} with hero names');
  if (options.length === 0) throw new Error('GET /options offers no hero to vote for');
  return options;
}
