import { KEY_HEADER } from '../lib/defaults.ts';
import { UserError, describeError } from '../lib/errors.ts';
import { totalVotes } from './votes.ts';

// The calls the runner makes to myhero-app besides the load itself: a preflight
// that turns an unreachable target or a wrong key into one clear line, the
// target's own hero options, and its recorded vote count.

/** Preflight and result reads must answer within this, so bad input is reported within 5 s. */
export const PROBE_TIMEOUT_MS = 3000;

const KEY_HINT = 'pass the myhero-app key with --key, env MYHERO_APP_KEY or --key-file (samples: DevApp on workstations, SecureApp in the cluster manifests)';

async function get(target: string, path: string, key: string, signal?: AbortSignal): Promise<{ status: number; body: string }> {
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const res = await fetch(`${target}${path}`, {
    headers: { [KEY_HEADER]: key },
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return { status: res.status, body: await res.text() };
}

function unreachable(target: string, err: unknown): UserError {
  const cause = (err as { cause?: unknown }).cause ?? err;
  const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${PROBE_TIMEOUT_MS / 1000} s` : describeError(cause);
  return new UserError(`cannot reach ${target}: ${why}`, 2);
}

/** GET /options: the heroes to vote for. Throws a UserError (exit 2) for an unreachable target or a rejected key. */
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
    throw new UserError(`authentication failed: ${target} answered HTTP ${res.status} (${what}); ${KEY_HINT}`, 2);
  }
  if (res.status !== 200) throw new UserError(`${target}/options answered HTTP ${res.status}; is this myhero-app?`, 2);
  let options: unknown;
  try {
    options = (JSON.parse(res.body) as { options?: unknown }).options;
  } catch {
    options = undefined;
  }
  if (!Array.isArray(options) || !options.every((o) => typeof o === 'string')) {
    throw new UserError(`${target}/options did not answer {"options": [...]}; is this myhero-app?`, 2);
  }
  if (options.length === 0) throw new UserError(`${target} has no hero options to vote for`, 2);
  return options as string[];
}

/** The total number of votes the target has recorded, from GET /v2/results. */
export async function readRecorded(target: string, key: string, signal?: AbortSignal): Promise<number> {
  let res: { status: number; body: string };
  try {
    res = await get(target, '/v2/results', key, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw unreachable(target, err);
  }
  if (res.status !== 200) throw new Error(`${target}/v2/results answered HTTP ${res.status}`);
  return totalVotes(JSON.parse(res.body));
}
