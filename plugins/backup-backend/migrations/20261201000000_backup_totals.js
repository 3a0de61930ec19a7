// @ts-check
/**
 * Totals per backup target — one row per (repository, namespace, cluster): how many backups it
 * has and their logical and stored bytes. The ingest keeps them in the same transaction as it adds
 * or removes backups, so an entity's status and its backup list's total are index lookups instead
 * of a scan of every backup of the target. Filled here from the backups already ingested.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('backup_totals', (t) => {
    t.comment('Per backup target: count and sizes of its backups (kept by the ingest)');
    t.string('namespace', 255).notNullable();
    t.string('cluster', 255).notNullable();
    t.string('repository', 255).notNullable();
    t.integer('backup_count').notNullable();
    t.bigInteger('logical_bytes').notNullable().comment('Sum of backups.size_total');
    t.bigInteger('stored_bytes').notNullable().comment('Sum of backups.stored_added');
    t.primary(['namespace', 'cluster', 'repository']);
  });
  await fillBackupTotals(knex);
}

/**
 * (Re)computes every total from the backups table. Also used by the benchmark, which seeds the
 * backups table directly.
 *
 * @param {import('knex').Knex} knex
 */
export async function fillBackupTotals(knex) {
  await knex('backup_totals').delete();
  await knex.raw(
    `insert into ?? (??, ??, ??, ??, ??, ??)
     select namespace, cluster, repository, count(*), coalesce(sum(size_total), 0),
            coalesce(sum(stored_added), 0)
     from ?? group by namespace, cluster, repository`,
    [
      'backup_totals',
      'namespace',
      'cluster',
      'repository',
      'backup_count',
      'logical_bytes',
      'stored_bytes',
      'backups',
    ],
  );
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTableIfExists('backup_totals');
}
