/**
 * `backup_totals`: per (repository, namespace, cluster), the count and sizes of its backups. The
 * ingest changes them in the transaction that inserts or deletes the backups, so they always
 * equal a COUNT/SUM over the rows; the status and the backup list read them instead.
 */
import type { Knex } from 'knex';
import { num } from './values.js';

export const BACKUP_TOTALS = 'backup_totals';

/** The columns of a backup row the totals are made of. */
export interface TotalledBackup {
  repository: unknown;
  namespace: unknown;
  cluster: unknown;
  size_total: unknown;
  stored_added: unknown;
}

export const TOTALLED_COLUMNS = [
  'repository',
  'namespace',
  'cluster',
  'size_total',
  'stored_added',
] as const satisfies ReadonlyArray<keyof TotalledBackup>;

/** A backup target as the ingest writes it: all three columns known. */
export interface StoredTarget {
  repository: string;
  namespace: string;
  cluster: string;
}

/** The target of a row with its three columns, and a key naming it. */
export function storedTarget(r: Record<keyof StoredTarget, unknown>): {
  target: StoredTarget;
  key: string;
} {
  const target = {
    repository: String(r.repository),
    namespace: String(r.namespace),
    cluster: String(r.cluster),
  };
  return { target, key: `${target.repository}\u0000${target.namespace}\u0000${target.cluster}` };
}

interface TotalsRow {
  repository: string;
  namespace: string;
  cluster: string;
  backup_count: number;
  logical_bytes: number;
  stored_bytes: number;
}

/** The backups' contribution to the totals, one row per target; `sign` -1 to take them away. */
function contributions(backups: TotalledBackup[], sign: 1 | -1): TotalsRow[] {
  const rows = new Map<string, TotalsRow>();
  for (const b of backups) {
    const { target, key } = storedTarget(b);
    let row = rows.get(key);
    if (!row) {
      row = { ...target, backup_count: 0, logical_bytes: 0, stored_bytes: 0 };
      rows.set(key, row);
    }
    row.backup_count += sign;
    row.logical_bytes += sign * num(b.size_total);
    row.stored_bytes += sign * num(b.stored_added);
  }
  return [...rows.values()];
}

/** `column = backup_totals.column + excluded.column`: the upsert adds to the row it finds. */
function added(tx: Knex, column: keyof TotalsRow): Knex.Raw {
  return tx.raw('??.?? + excluded.??', [BACKUP_TOTALS, column, column]);
}

async function apply(tx: Knex.Transaction, rows: TotalsRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx(BACKUP_TOTALS)
    .insert(rows)
    .onConflict(['namespace', 'cluster', 'repository'])
    .merge({
      backup_count: added(tx, 'backup_count'),
      logical_bytes: added(tx, 'logical_bytes'),
      stored_bytes: added(tx, 'stored_bytes'),
    });
}

/** Counts backups just inserted by `tx` into their targets' totals. */
export function addToTotals(tx: Knex.Transaction, inserted: TotalledBackup[]): Promise<void> {
  return apply(tx, contributions(inserted, 1));
}

/**
 * Takes backups just deleted by `tx` (as `delete … returning` gave them, so a concurrent delete of
 * the same rows is not taken twice) out of their targets' totals; targets left without backups
 * lose their row.
 */
export async function removeFromTotals(
  tx: Knex.Transaction,
  deleted: TotalledBackup[],
): Promise<void> {
  const rows = contributions(deleted, -1);
  await apply(tx, rows);
  if (!rows.length) return;
  await tx(BACKUP_TOTALS)
    .whereIn('repository', [...new Set(rows.map((r) => r.repository))])
    .where('backup_count', '<=', 0)
    .delete();
}
