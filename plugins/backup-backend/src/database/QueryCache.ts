/**
 * Results of read queries kept for `ttlMs` (backup.cache.ttl), keyed by the statement's SQL and
 * bindings: list totals (counting a filter over 100,000 backups costs more than fetching the page
 * itself) and list pages. The rows only change when the ingest writes: the ingest clears the
 * caches in its process, and other replicas see new rows after `ttlMs`. With `ttlMs` 0 no key is
 * made.
 */
import { TtlCache, type TtlCacheOptions } from '../services/Cache/TtlCache.js';
import { statementKey, type Statement } from './compiledStatements.js';

export class QueryCache<V> {
  private readonly cache: TtlCache<V>;
  private readonly enabled: boolean;

  constructor(options: TtlCacheOptions) {
    this.cache = new TtlCache(options);
    this.enabled = options.ttlMs > 0;
  }

  /** The result of `statement`, computed by `compute` on a miss and kept with `size` (default 1). */
  get(statement: Statement, compute: () => Promise<V>, size?: number): Promise<V> {
    if (!this.enabled) return compute();
    return this.cache.get(statementKey(statement), compute, size);
  }

  clear(): void {
    this.cache.clear();
  }
}
