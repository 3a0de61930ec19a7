/**
 * A small cache of promises kept for `ttlMs`: concurrent callers of a key share one computation,
 * a rejected promise is dropped as soon as it settles (the next caller computes again), and the
 * oldest entries are evicted beyond `maxSize` (each entry counts 1, or the size given for it).
 * `ttlMs` 0 disables it (every call computes).
 */

export interface CacheOptions {
  /** How long a value is served; 0 disables caching. */
  ttlMs: number;
  /** The clock (milliseconds); `Date.now` by default. */
  now?: () => number;
}

export interface TtlCacheOptions extends CacheOptions {
  /** Total size of the entries kept (default 1,000 entries of size 1); the oldest go first. */
  maxSize?: number;
}

interface Entry<V> {
  expires: number;
  size: number;
  value: Promise<V>;
}

export class TtlCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly ttlMs: number;
  private readonly maxSize: number;
  private readonly now: () => number;
  private total = 0;

  constructor(options: TtlCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.maxSize = Math.max(1, options.maxSize ?? 1_000);
    this.now = options.now ?? Date.now;
  }

  /**
   * The value of `key`: the cached promise while it is fresh, else `compute()` (then cached with
   * `size`, e.g. the rows it holds; an entry larger than the whole cache is not kept). A key
   * that costs something to make can be given as a function: with caching off it is not made.
   */
  get(keyOf: string | (() => string), compute: () => Promise<V>, size = 1): Promise<V> {
    if (this.ttlMs <= 0) return compute();
    const key = typeof keyOf === 'string' ? keyOf : keyOf();
    const now = this.now();
    const hit = this.entries.get(key);
    if (hit && now < hit.expires) return hit.value;
    if (hit) this.remove(key, hit);
    const value = compute();
    if (size > this.maxSize) return value;
    const entry = { expires: now + this.ttlMs, size, value };
    while (this.total + size > this.maxSize) this.evictOldest();
    this.entries.set(key, entry);
    this.total += size;
    value.catch(() => {
      if (this.entries.get(key) === entry) this.remove(key, entry);
    });
    return value;
  }

  /** Forgets every entry (the data behind them changed). */
  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /** Entries held, fresh or not yet evicted. */
  get entryCount(): number {
    return this.entries.size;
  }

  private remove(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.total -= entry.size;
  }

  private evictOldest(): void {
    const [key, entry] = this.entries.entries().next().value!;
    this.remove(key, entry);
  }
}
