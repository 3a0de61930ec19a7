// @ts-check
/**
 * A partial index of failed backups in the audit log, per namespace and time: an entity's status
 * finds its newest failure without reading every audit entry of its namespace (most backups
 * succeed, so that scan grew with the log). The condition is QueryStore's FAILED_BACKUP.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.alterTable('audit_events', (t) => {
    t.index(['namespace', 'time'], 'audit_backup_failures_idx', {
      predicate: knex.whereRaw(
        "action = 'backup.create' and outcome not in ('success', 'started')",
      ),
    });
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.alterTable('audit_events', (t) => {
    t.dropIndex(['namespace', 'time'], 'audit_backup_failures_idx');
  });
}
