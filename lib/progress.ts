import type { Logger } from './log.ts';

export interface Progress {
  /** Report the current state of a long task; cheap to call often. */
  update(fields: Record<string, string | number>): void;
  /** Clear the live line (TTY) before a final report is printed. */
  done(): void;
}

/**
 * A live progress line on a TTY (rewritten in place on stderr), or, when
 * stderr is not a terminal, a structured log line at most every `everyMs`.
 */
export function createProgress(log: Logger, opts: { stream?: NodeJS.WriteStream; everyMs?: number; label?: string } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const everyMs = opts.everyMs ?? (stream.isTTY ? 250 : 5000);
  let last = 0;
  let shown = false;
  return {
    update(fields) {
      const now = Date.now();
      if (now - last < everyMs) return;
      last = now;
      if (stream.isTTY) {
        const text = Object.entries(fields)
          .map(([k, v]) => `${k} ${v}`)
          .join('  ');
        stream.write(`\r\x1b[K${opts.label ? `${opts.label}  ` : ''}${text}`);
        shown = true;
      } else {
        log.info({ progress: fields }, opts.label ?? 'progress');
      }
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
