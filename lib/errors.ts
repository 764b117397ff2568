/**
 * An error caused by the user's input or environment (bad flag, port in use,
 * unreachable URL). The CLI prints its message as one line and exits with
 * `exitCode`; it never prints a stack trace for it.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
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
