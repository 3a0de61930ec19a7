/**
 * Results of read queries kept for `ttlMs` (backup.cache.ttl), keyed by the query's SQL and
 * bindings: list totals (counting a filter over 100,000 backups costs more than fetching the page
 * itself) and list pages. The rows only change when the ingest writes: the ingest clears the
 * caches in its process, and other replicas see new rows after `ttlMs`.
 */
import type { Knex } from 'knex';
import { TtlCache, type TtlCacheOptions } from '../services/Cache/TtlCache.js';

export class QueryCache<V> {
  private readonly cache: TtlCache<V>;

  constructor(options: TtlCacheOptions) {
    this.cache = new TtlCache(options);
  }

  /** The result of `query`, computed by `compute` on a miss and kept with `size` (default 1). */
  get(query: Knex.QueryBuilder, compute: () => Promise<V>, size?: number): Promise<V> {
    const { sql, bindings } = query.toSQL();
    return this.cache.get(`${sql}\u0000${JSON.stringify(bindings)}`, compute, size);
  }

  clear(): void {
    this.cache.clear();
  }
}
