/**
 * Totals of list queries, kept for a few seconds. Counting a filter over 100,000 backups costs
 * more than fetching the page itself, and the totals only change when the ingest writes: the
 * ingest clears the cache in its process, and other replicas see new totals after `ttlMs`.
 */
import type { Knex } from 'knex';

export class CountCache {
  private readonly entries = new Map<string, { at: number; value: Promise<number> }>();

  constructor(
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 1_000,
  ) {}

  /** The count of `query` (a builder without order or limit), cached by its SQL and bindings. */
  count(query: Knex.QueryBuilder, compute: () => Promise<number>): Promise<number> {
    const { sql, bindings } = query.toSQL();
    const key = `${sql}\u0000${JSON.stringify(bindings)}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const value = compute();
    this.entries.set(key, { at: now, value });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
