/**
 * Exit codes, the same in every command (and in the standalone exporter bundle).
 * `unjudged` covers everything that stops a verdict from being reached: a target or
 * dependency unreachable or broken mid-run, a read or write that failed, a port already taken.
 */
export const EXIT = {
  passed: 0,
  /** A threshold, check or verdict failed. */
  failed: 1,
  /** Bad input: a usage error, a bad flag value, an invalid file. */
  badInput: 2,
  /** The run could not be judged. */
  unjudged: 3,
  /** Stopped by Ctrl-C/SIGTERM (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error caused by the user's input or environment (bad flag, port in use,
 * unreachable URL). The CLI prints its message as one line and exits with
 * `exitCode` (see EXIT; by default the run could not be judged); it never prints
 * a stack trace for it.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.unjudged,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A one-line description of any error value, for logs and reports. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
