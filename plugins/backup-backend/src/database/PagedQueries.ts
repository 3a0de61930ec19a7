/**
 * List pages with their totals, both cached for `ttlMs` (backup.cache.ttl): a total apart, since
 * every page of a filter shares it. A total counted over the rows (COUNT(*)) runs beside the page;
 * a total read from `backup_totals` (an index lookup) is fetched in the page's own statement.
 * Statements are compiled once per list and filter shape (compiledStatements.ts). A list whose rows
 * the database can give as JSON (`json`) is read as one text per row, and the page comes with its
 * JSON text (sendJson sends it as it is; `items` is parsed from it only when read).
 */
import type { Knex } from 'knex';
import type { Page } from '@kubectl-backup/plugin-backup-common';
import { TtlCache, type CacheOptions } from '../services/Cache/TtlCache.js';
import {
  CompiledStatements,
  mark,
  statementKey,
  type Marked,
  type Statement,
} from './compiledStatements.js';
import { withJsonText } from '../sendJson.js';
import { BatchedStatements } from './batchedStatements.js';
import type { PageRequest } from './types.js';
import { num } from './values.js';

type Row = Record<string, unknown>;

/** Rows of list pages kept at most (a few tens of MB). */
const MAX_CACHED_ROWS = 50_000;

/** Columns of a statement that reads a page and its total together: the total, and 1 in a row. */
const TOTAL = 'page_total';
const ROW = 'page_row';
/** The column of a row's JSON text. */
const JSON_COLUMN = 'page_json';

export interface SortColumn {
  column: string;
  order?: 'asc' | 'desc';
}

export interface PageQuery<F, T> {
  /** Names the list and its order: statements are compiled once per name and filter shape. */
  name: string;
  /** The filter's values (strings and numbers), which `rows` and `total` get marked. */
  filter: F;
  /** The filtered rows, with the columns `map` reads. */
  rows: (f: F) => Knex.QueryBuilder;
  /** The order of the rows (columns of the rows' table). */
  orderBy: SortColumn[];
  map: (r: Row) => T;
  /**
   * SQL of a row's JSON text, the same as JSON.stringify(map(row)) (rowJson.ts), where the
   * database can make it: the page then reads it and the sort columns instead of the row.
   */
  json?: string;
  /** A statement of one row whose `count` is the total of `rows`, if cheaper than counting them. */
  total?: (f: F) => Knex.QueryBuilder;
}

type Marks<F> = Marked<{ filter: F; offset: number; limit: number }>;

export class PagedQueries {
  private readonly counts: TtlCache<number>;
  private readonly pages: TtlCache<Page<unknown>>;
  private readonly statements: CompiledStatements;
  /** Page-and-total statements of concurrent misses, run together. */
  private readonly batched: BatchedStatements;

  constructor(
    private readonly knex: Knex,
    cache: CacheOptions,
  ) {
    this.counts = new TtlCache(cache);
    this.pages = new TtlCache({ ...cache, maxSize: MAX_CACHED_ROWS });
    this.statements = new CompiledStatements(knex);
    this.batched = new BatchedStatements(knex);
  }

  clear(): void {
    this.counts.clear();
    this.pages.clear();
  }

  read<F, T>(query: PageQuery<F, T>, p: PageRequest): Promise<Page<T>> {
    const m = mark({ filter: query.filter, offset: p.offset, limit: p.limit });
    const page = this.statements.statement(`${query.name} page`, m, (v) => this.pageRows(query, v));
    const compute = async (): Promise<Page<T>> => {
      const [found, total] = await Promise.all(
        query.total ? this.withTotal(query, m, page) : this.besideCount(query, m, page),
      );
      const at = { total, offset: p.offset, limit: p.limit };
      if (!query.json) return { items: found.map(query.map), ...at };
      return jsonPage<T>(found.map((r) => String(r[JSON_COLUMN])).join(','), at);
    };
    return this.pages.get(() => statementKey(page), compute, p.limit) as Promise<Page<T>>;
  }

  private pageRows<F, T>(query: PageQuery<F, T>, v: Marks<F>['marked']): Knex.QueryBuilder {
    const rows = query.rows(v.filter);
    if (query.json)
      rows
        .clearSelect()
        .select(this.knex.raw(`${query.json} as ??`, [JSON_COLUMN]))
        .select(query.orderBy.map((o) => o.column));
    return rows.orderBy(query.orderBy).offset(v.offset).limit(v.limit);
  }

  /** The page, and a COUNT(*) of the filter in parallel (unless cached). */
  private besideCount<F, T>(query: PageQuery<F, T>, m: Marks<F>, page: Statement) {
    const count = this.statements.statement(`${query.name} count`, m, (v) =>
      query.rows(v.filter).clearSelect().clearOrder().count({ count: '*' }),
    );
    const total = this.counts.get(
      () => statementKey(count),
      async () => num((await this.statements.rows(count))[0]?.count),
    );
    return [this.statements.rows(page), total] as const;
  }

  /**
   * The page and its total in one statement (`total left join page`: a row of nulls but the total
   * when the page is empty), unless the total is cached: then the page alone.
   */
  private withTotal<F, T>(query: PageQuery<F, T>, m: Marks<F>, page: Statement) {
    const totalOf = query.total!;
    const totalOnly = this.statements.statement(`${query.name} total`, m, (v) => totalOf(v.filter));
    let both: Promise<Row[]> | undefined;
    // Called at once on a miss (so `both` is set below), not at all on a hit.
    const total = this.counts.get(
      () => statementKey(totalOnly),
      async () => {
        const statement = this.statements.statement(`${query.name} page+total`, m, (v) => {
          const k = this.knex;
          const rows = this.pageRows(query, v).select(k.raw('1 as ??', [ROW]));
          const joined = k
            .select('page.*', `total.count as ${TOTAL}`)
            .from(totalOf(v.filter).as('total'))
            .leftJoin(rows.as('page'), (j) => j.on(k.raw('1 = 1')));
          return joined.orderBy(query.orderBy);
        });
        both = this.batched.rows(`${query.name} page+total`, statement, query.orderBy);
        return num((await both)[0]?.[TOTAL]);
      },
    );
    const found = both
      ? both.then((all) => all.filter((r) => r[ROW] !== null))
      : this.statements.rows(page);
    return [found, total] as const;
  }
}

/**
 * A page of items read as JSON text (comma-separated): its own text made of theirs, `items` parsed
 * when read.
 */
export function jsonPage<T>(itemsText: string, at: Omit<Page<T>, 'items'>): Page<T> {
  const text = `{"items":[${itemsText}],"total":${at.total},"offset":${at.offset},"limit":${at.limit}}`;
  let items: T[] | undefined;
  const page = {
    get items(): T[] {
      return (items ??= (JSON.parse(text) as Page<T>).items);
    },
    ...at,
  };
  return withJsonText(page, text);
}
