/**
 * List pages with their totals, both cached for `ttlMs` (backup.cache.ttl): a total apart, since
 * every page of a filter shares it. A total counted over the rows (COUNT(*)) runs beside the page;
 * a total read from `backup_totals` (an index lookup) is fetched in the page's own statement.
 */
import type { Knex } from 'knex';
import type { Page } from '@kubectl-backup/plugin-backup-common';
import type { CacheOptions } from '../services/Cache/TtlCache.js';
import { QueryCache } from './QueryCache.js';
import type { PageRequest } from './types.js';
import { num } from './values.js';

type Row = Record<string, unknown>;

/** Rows of list pages kept at most (a few tens of MB). */
const MAX_CACHED_ROWS = 50_000;

/** Columns of a statement that reads a page and its total together: the total, and 1 in a row. */
const TOTAL = 'page_total';
const ROW = 'page_row';

export interface PageQuery<T> {
  /** The filtered rows. */
  rows: Knex.QueryBuilder;
  order: (q: Knex.QueryBuilder) => void;
  map: (r: Row) => T;
  /** A statement of one row whose `count` is the total of `rows`, if cheaper than counting them. */
  total?: Knex.QueryBuilder;
}

export class PagedQueries {
  private readonly counts: QueryCache<number>;
  private readonly pages: QueryCache<Page<unknown>>;

  constructor(
    private readonly knex: Knex,
    cache: CacheOptions,
  ) {
    this.counts = new QueryCache(cache);
    this.pages = new QueryCache({ ...cache, maxSize: MAX_CACHED_ROWS });
  }

  clear(): void {
    this.counts.clear();
    this.pages.clear();
  }

  read<T>(query: PageQuery<T>, p: PageRequest): Promise<Page<T>> {
    const rows = query.rows.clone();
    query.order(rows);
    rows.offset(p.offset).limit(p.limit);
    const compute = async (): Promise<Page<T>> => {
      const [found, total] = await Promise.all(
        query.total
          ? this.withTotal(rows, query.total, query.order)
          : this.besideCount(rows, query.rows),
      );
      return { items: found.map(query.map), total, offset: p.offset, limit: p.limit };
    };
    return this.pages.get(rows, compute, p.limit) as Promise<Page<T>>;
  }

  /** The page, and a COUNT(*) of the filter in parallel (unless cached). */
  private besideCount(rows: Knex.QueryBuilder, filtered: Knex.QueryBuilder) {
    const countQuery = filtered.clone().clearSelect().clearOrder().count({ count: '*' });
    const total = this.counts.get(countQuery, async () =>
      num(((await countQuery) as Row[])[0]?.count),
    );
    return [rows as Promise<Row[]>, total] as const;
  }

  /**
   * The page and its total in one statement (`total left join page`: a row of nulls but the total
   * when the page is empty), unless the total is cached: then the page alone.
   */
  private withTotal(
    rows: Knex.QueryBuilder,
    totalQuery: Knex.QueryBuilder,
    order: (q: Knex.QueryBuilder) => void,
  ) {
    let both: Promise<Row[]> | undefined;
    // Called at once on a miss (so `both` is set below), not at all on a hit.
    const total = this.counts.get(totalQuery, async () => {
      const k = this.knex;
      const page = rows.clone().select(k.raw('1 as ??', [ROW]));
      const statement = k
        .select('page.*', `total.count as ${TOTAL}`)
        .from(totalQuery.as('total'))
        .leftJoin(page.as('page'), (j) => j.on(k.raw('1 = 1')));
      order(statement);
      both = Promise.resolve(statement as Promise<Row[]>);
      return num((await both)[0]?.[TOTAL]);
    });
    const found = both
      ? both.then((all) => all.filter((r) => r[ROW] !== null))
      : (rows as Promise<Row[]>);
    return [found, total] as const;
  }
}
