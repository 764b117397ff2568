import { BODIES, KEY_HEADER } from '../lib/defaults.ts';
import { EXIT, UserError, describeError } from '../lib/errors.ts';
import { countsByHero, heroOptions } from './votes.ts';

// The calls the runner makes to myhero-app besides the load itself: a preflight
// that turns an unreachable target, a wrong key or a data tier that does not
// answer into one clear line, the target's own hero options, and its recorded
// votes per hero.

/** Preflight and result reads must answer within this, so bad input is reported within 5 s. */
const PROBE_TIMEOUT_MS = 3000;

const KEY_HINT = 'pass the myhero-app key with --key, env MYHERO_APP_KEY or --key-file (samples: DevApp on workstations, SecureApp in the cluster manifests)';

async function get(target: string, path: string, key: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const res = await fetch(`${target}${path}`, {
    headers: { [KEY_HEADER]: key },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return { status: res.status, body: await res.text() };
}

function why(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause ?? err;
  return err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : describeError(cause);
}

/** The target is not there: the run cannot be judged (exit 3). */
const unreachable = (target: string, err: unknown) => new UserError(`cannot reach ${target}: ${why(err)}`, EXIT.unjudged);

/**
 * A 5xx from a read: if /health answers "Service up." the app is there and its data tier is
 * not (exit 3); otherwise the URL is probably not myhero-app (exit 2).
 */
async function readFailed(target: string, path: string, status: number, key: string, signal?: AbortSignal): Promise<UserError> {
  const health = await get(target, '/health', key, signal).catch(() => undefined);
  if (health?.status === 200 && health.body.trim() === BODIES.health) {
    return new UserError(
      `${target} answers /health but ${path} answered HTTP ${status}: the app is up and its data tier is not answering (is myhero-data running and reachable from the app?)`,
      EXIT.unjudged,
    );
  }
  return new UserError(`${target}${path} answered HTTP ${status} and /health did not answer "${BODIES.health}"; is this myhero-app?`, EXIT.badInput);
}

/** GET /options: the heroes to vote for. Throws a one-line UserError for an unreachable target, a rejected key or a failing data tier. */
export async function probeTarget(target: string, key: string, signal?: AbortSignal): Promise<string[]> {
  let res: { status: number; body: string };
  try {
    res = await get(target, '/options', key, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw unreachable(target, err);
  }
  if (res.status === 400 || res.status === 401) {
    const what = res.status === 400 ? 'no key was sent' : 'the key was rejected';
    throw new UserError(`authentication failed: ${target} answered HTTP ${res.status} (${what}); ${KEY_HINT}`, EXIT.badInput);
  }
  if (res.status >= 500) throw await readFailed(target, '/options', res.status, key, signal);
  if (res.status !== 200) throw new UserError(`${target}/options answered HTTP ${res.status}; is this myhero-app?`, EXIT.badInput);
  const options = heroOptions(res.body);
  if (!options) throw new UserError(`${target}/options did not answer {"options": [...]}; is this myhero-app?`, EXIT.badInput);
  if (options.length === 0) throw new UserError(`${target} has no hero options to vote for`, EXIT.badInput);
  return options;
}

/** A read of /v2/results that failed: `status` when the target answered, `unreachable` when it did not. */
class ResultsReadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Recorded votes per hero, from GET /v2/results. Throws a plain Error (the drain retries it). */
export async function readCounts(target: string, key: string, signal?: AbortSignal): Promise<Record<string, number>> {
  let res: { status: number; body: string };
  try {
    res = await get(target, '/v2/results', key, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ResultsReadError(`cannot reach ${target}: ${why(err)}`);
  }
  if (res.status !== 200) throw new ResultsReadError(`${target}/v2/results answered HTTP ${res.status}`, res.status);
  try {
    return countsByHero(JSON.parse(res.body));
  } catch {
    throw new ResultsReadError(`${target}/v2/results did not answer a list of [hero, votes, percent]`, res.status);
  }
}

/** The recorded votes before the load: a failure here stops the run before any vote, as one line with the likely cause. */
export async function readCountsBefore(target: string, key: string, signal?: AbortSignal): Promise<Record<string, number>> {
  try {
    return await readCounts(target, key, signal);
  } catch (err) {
    if (signal?.aborted || !(err instanceof ResultsReadError)) throw err;
    if (err.status === undefined) throw new UserError(err.message, EXIT.unjudged);
    if (err.status >= 500) throw await readFailed(target, '/v2/results', err.status, key, signal);
    throw new UserError(`${err.message}; is this myhero-app?`, EXIT.badInput);
  }
}
