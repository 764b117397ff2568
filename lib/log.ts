import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Field paths that may hold a secret; pino replaces their values before anything is written. */
export const REDACT_PATHS = [
  'key',
  '*.key',
  'headers.key',
  '*.headers.key',
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'webhook',
  '*.webhook',
];

export interface LogOptions {
  level?: string;
  /** Force JSON even on a TTY (e.g. `--json`, where a person is reading stdout for results). */
  json?: boolean;
}

/** pino logger on stderr, so stdout stays clean for `--json` results: human-readable on a TTY, structured JSON lines otherwise. */
export function createLogger(name: string, opts: LogOptions = {}): Logger {
  const destination = process.stderr;
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const base = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (destination.isTTY && !opts.json) {
    return pino(base, pretty({ destination, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino(base, destination as pino.DestinationStream);
}

/** A logger that writes nothing: for library code called from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
