// Single-flight with a freshness window: callers while a load is in flight share it, and
// its outcome (value or error) is reused until `ttlMs` after it settled. Caching failures
// too keeps a hanging or broken source from being retried on every scrape.

export function memoize<T>(load: () => Promise<T>, ttlMs: number, now: () => number = () => performance.now()): () => Promise<T> {
  let current: Promise<T> | undefined;
  let settledAt: number | undefined;
  return () => {
    if (current && (settledAt === undefined || now() - settledAt < ttlMs)) return current;
    const p = load();
    current = p;
    settledAt = undefined;
    const settle = () => {
      if (current === p) settledAt = now();
    };
    p.then(settle, settle);
    return p;
  };
}
