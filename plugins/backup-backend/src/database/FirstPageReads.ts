/**
 * An entity's first backup page read from `backup_first_pages` (firstPages.ts) instead of
 * computed from its backups: one index lookup of the target's totals and kept page, the page's
 * text cut to `limit` items. Only when the request is exactly one target's first page in the
 * default order, with no other filter, and the target is one (repository, namespace, cluster):
 * otherwise (or when the kept page is missing or was built from another backup count) the list
 * computes the page as before.
 */
import type { Knex } from 'knex';
import type { BackupSummary, BackupTarget, Page } from '@kubectl-backup/plugin-backup-common';
import { TtlCache, type CacheOptions } from '../services/Cache/TtlCache.js';
import { BACKUP_TOTALS } from './backupTotals.js';
import { BatchedStatements } from './batchedStatements.js';
import { CompiledStatements, mark } from './compiledStatements.js';
import { FIRST_PAGES, FIRST_PAGE_SIZE } from './firstPages.js';
import { jsonPage } from './PagedQueries.js';
import type { BackupListFilter, PageRequest } from './types.js';
import { num } from './values.js';
import { whereTargets } from './whereTargets.js';

type Row = Record<string, unknown>;

/** Kept pages cached at most (each up to FIRST_PAGE_SIZE items). */
const MAX_CACHED_PAGES = 1_000;

/** A backup list request, as QueryStore.listBackups gets it. */
export interface BackupListRequest {
  filter: BackupListFilter;
  sort: string;
  order: string;
  page: PageRequest;
}

/** The target of a request the kept pages can answer, if it is one. */
export function keptPageTarget(r: BackupListRequest): BackupTarget | undefined {
  const { filter: f, page: p } = r;
  const plain =
    f.targets?.length === 1 &&
    !f.repository &&
    !f.since &&
    !f.until &&
    !f.namespace &&
    !f.cluster &&
    r.sort === 'time' &&
    r.order === 'desc' &&
    p.offset === 0 &&
    p.limit <= FIRST_PAGE_SIZE;
  return plain ? f.targets![0] : undefined;
}

export class FirstPageReads {
  private readonly pages: TtlCache<Page<BackupSummary> | undefined>;
  private readonly statements: CompiledStatements;
  /** Lookups of concurrent misses, run together. */
  private readonly batched: BatchedStatements;

  constructor(
    private readonly knex: Knex,
    cache: CacheOptions,
  ) {
    this.pages = new TtlCache({ ...cache, maxSize: MAX_CACHED_PAGES });
    this.statements = new CompiledStatements(knex);
    this.batched = new BatchedStatements(knex);
  }

  clear(): void {
    this.pages.clear();
  }

  /** The target's first `limit` backups from its kept page; undefined when it has none kept. */
  read(target: BackupTarget, limit: number): Promise<Page<BackupSummary> | undefined> {
    const key = `${target.namespace}\u0000${target.cluster ?? ''}\u0000${limit}`;
    return this.pages.get(key, async () => {
      const statement = this.statements.statement('first page', mark(target), (t) =>
        this.lookup(t),
      );
      return keptPage((await this.batched.rows('first page', statement)) as Row[], limit);
    });
  }

  /** The target's totals rows (two at most: more than one is not answered) with their pages. */
  private lookup(target: BackupTarget): Knex.QueryBuilder {
    const q = this.knex({ t: BACKUP_TOTALS })
      .leftJoin({ p: FIRST_PAGES }, (j) =>
        j
          .on('p.namespace', 't.namespace')
          .andOn('p.cluster', 't.cluster')
          .andOn('p.repository', 't.repository'),
      )
      .select({
        first_total: 't.backup_count',
        first_count: 'p.item_count',
        first_built: 'p.built_total',
        first_items: 'p.items_json',
        first_ends: 'p.item_ends',
      })
      .limit(2);
    whereTargets(q, [target], 't.namespace', 't.cluster');
    return q;
  }
}

/**
 * The page of the only row, cut to `limit` items; none when the target has no backups, spans
 * several (repository, namespace, cluster) or its kept page is missing, not of its size or built
 * from another backup count than the target's totals now hold.
 */
function keptPage(rows: Row[], limit: number): Page<BackupSummary> | undefined {
  const row = rows.length === 1 ? rows[0]! : undefined;
  if (!row || row.first_items == null) return undefined;
  const total = num(row.first_total);
  const count = num(row.first_count);
  // Built from another count: backups added or removed by a writer that keeps no pages.
  if (num(row.first_built) !== total || count !== Math.min(total, FIRST_PAGE_SIZE))
    return undefined;
  const items = String(row.first_items);
  const ends = String(row.first_ends).split(',');
  const text = limit >= count ? items : items.slice(0, Number(ends[limit - 1]));
  return jsonPage<BackupSummary>(text, { total, offset: 0, limit });
}
