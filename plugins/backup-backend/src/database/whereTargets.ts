/** The row filter of backup targets, shared by the reads of rows and of totals. */
import type { Knex } from 'knex';
import type { BackupTarget } from '@kubectl-backup/plugin-backup-common';

/** `where (namespace = ? [and cluster = ?]) or …` over the given columns; no targets → no rows. */
export function whereTargets(
  q: Knex.QueryBuilder,
  targets: BackupTarget[] | undefined,
  nsColumn: string,
  clusterColumn: string,
): void {
  if (!targets) return;
  if (targets.length === 0) {
    q.whereRaw('1 = 0');
    return;
  }
  q.where((outer) => {
    for (const t of targets) {
      outer.orWhere((w) => {
        w.where(nsColumn, t.namespace);
        if (t.cluster) w.where(clusterColumn, t.cluster);
      });
    }
  });
}
