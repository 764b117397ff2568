// myhero-app keeps the last options answer for OPTIONS_CACHE_SECONDS and serves
// it without asking data. The clock is injectable so tests need not wait 300 s.

export type Clock = () => number;

export class OptionsCache<T> {
  private entry: { value: T; at: number } | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly now: Clock = Date.now,
  ) {}

  /** The cached value while it is younger than the TTL. */
  get(): T | undefined {
    if (this.entry && this.now() - this.entry.at < this.ttlMs) return this.entry.value;
    return undefined;
  }

  set(value: T): void {
    this.entry = { value, at: this.now() };
  }
}
