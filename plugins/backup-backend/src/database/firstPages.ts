/**
 * `backup_first_pages`: per (repository, namespace, cluster), the first page of its backups in the
 * list's default order (time, then snapshot, newest first) as the JSON text the list would send.
 * The ingest rewrites a target's page in the transaction that adds, removes or re-verifies its
 * backups, after changing its `backup_totals` row (whose row lock then orders the rewrites of
 * concurrent transactions); FirstPageReads answers an entity's first page from it.
 */
import type { Knex } from 'knex';
import { backupSummaryJson } from './backupJson.js';
import { BACKUP_TOTALS, storedTarget, type StoredTarget } from './backupTotals.js';
import { jsonDialect } from './rowJson.js';
import { rawRows } from './values.js';

export const FIRST_PAGES = 'backup_first_pages';

/** Items kept per target: the list's default page size (the API's limit goes up to 500). */
export const FIRST_PAGE_SIZE = 50;

/** The order of the kept items: the backup list's default (`sort=time&order=desc`). */
export const FIRST_PAGE_ORDER = [
  { column: 'time', order: 'desc' },
  { column: 'snapshot', order: 'desc' },
] as const;

const JSON_COLUMN = 'item_json';

/** The distinct targets of backup rows (or of anything with their three columns). */
export function targetsOf(
  rows: ReadonlyArray<Record<keyof StoredTarget, unknown>>,
): StoredTarget[] {
  return [...new Map(rows.map((r) => storedTarget(r)).map((t) => [t.key, t.target])).values()];
}

/**
 * Rewrites the kept first page of each target from its backup rows as `tx` sees them (no rows:
 * no page). `json` is the SQL of a backup's JSON text (backupJson.ts); without it nothing is kept
 * (and the list computes every page). On PostgreSQL the target's totals row is locked first, so
 * transactions that change the same target rewrite its page one after the other. Each page keeps
 * the totals' `backup_count` it was built with (`built_total`), so a change to the target's backups
 * made without rewriting its page leaves the page unused (FirstPageReads).
 */
export async function refreshFirstPages(
  tx: Knex.Transaction,
  json: string | undefined,
  targets: StoredTarget[],
): Promise<void> {
  if (json === undefined) return;
  for (const t of targets) {
    // The count the page is built from: the page answers only while the totals still say it.
    const totals = tx(BACKUP_TOTALS).where(t).first('backup_count');
    if (jsonDialect(tx) === 'pg') totals.forUpdate();
    const totalRow = (await totals) as { backup_count?: unknown } | undefined;
    const items = (
      await tx('backups')
        .where(t)
        .select(tx.raw(`${json} as ??`, [JSON_COLUMN]))
        .orderBy([...FIRST_PAGE_ORDER])
        .limit(FIRST_PAGE_SIZE)
    ).map((r: Record<string, unknown>) => String(r[JSON_COLUMN]));
    if (items.length === 0) {
      await tx(FIRST_PAGES).where(t).delete();
      continue;
    }
    let end = -1;
    const ends = items.map((item) => (end += item.length + 1));
    await tx(FIRST_PAGES)
      .insert({
        ...t,
        item_count: items.length,
        built_total: totalRow ? Number(totalRow.backup_count) : -1,
        items_json: items.join(','),
        item_ends: ends.join(','),
      })
      .onConflict(['namespace', 'cluster', 'repository'])
      .merge();
  }
}

/**
 * Keeps the page of every target that has backups but no kept page: all of them after the table's
 * migration (or after the benchmark seeded the backups table), none on a later start.
 */
export async function fillFirstPages(knex: Knex): Promise<void> {
  const json = backupSummaryJson(knex);
  if (json === undefined) return;
  const missing = await rawRows<StoredTarget>(
    knex,
    `select t.repository, t.namespace, t.cluster from ?? t where not exists
       (select 1 from ?? p where p.namespace = t.namespace and p.cluster = t.cluster
          and p.repository = t.repository)`,
    [BACKUP_TOTALS, FIRST_PAGES],
  );
  for (const t of missing) await knex.transaction((tx) => refreshFirstPages(tx, json, [t]));
}
