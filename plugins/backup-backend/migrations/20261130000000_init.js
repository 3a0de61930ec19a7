// @ts-check
/**
 * The read model of the repositories (backups, their item summaries, restores and their item
 * results, audit events), ingest cursors, schedules and their runs, and operations started from
 * the portal. Times are ISO-8601 UTC strings (`2026-11-30T02:30:00.000Z`): they sort as text
 * the same way in SQLite and PostgreSQL.
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('ingest_cursors', (t) => {
    t.comment('Per repository: where the last ingest got to and the audit chain state');
    t.string('repository', 255).primary();
    t.string('location', 1024).notNullable().comment('URL without credentials');
    t.string('last_run_at', 30);
    t.string('last_success_at', 30);
    t.text('last_error');
    t.integer('audit_seq').notNullable().defaultTo(0).comment('Highest audit entry ingested');
    t.string('audit_hash', 64).comment(
      'Hash of that entry (the expected head of the next verification)',
    );
    t.boolean('audit_chain_ok');
    t.integer('audit_entries');
    t.integer('audit_bad_seq');
    t.text('audit_bad_reason');
    t.string('audit_verified_at', 30);
  });

  await knex.schema.createTable('backups', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable();
    t.string('name', 255).notNullable();
    t.string('namespace', 255).notNullable();
    t.string('cluster', 255).notNullable();
    t.string('time', 30).notNullable();
    t.integer('duration_ms');
    t.string('actor', 255).notNullable();
    t.integer('resources').notNullable();
    t.integer('volumes').notNullable();
    t.bigInteger('volume_bytes').notNullable();
    t.bigInteger('size_total').notNullable();
    t.bigInteger('size_added').notNullable();
    t.bigInteger('stored_added').notNullable();
    t.integer('warnings').notNullable();
    t.text('warning_list').comment('JSON array');
    t.text('tags').comment('JSON array of user tags');
    t.string('verification_result', 32);
    t.string('verification_time', 30);
    t.string('verification_record', 255);
    t.text('error');
    t.primary(['repository', 'snapshot']);
    t.unique(['repository', 'name']);
    t.index(['namespace', 'time'], 'backups_namespace_time_idx');
    t.index(['cluster', 'namespace', 'time'], 'backups_cluster_namespace_time_idx');
    t.index(['time'], 'backups_time_idx');
  });

  await knex.schema.createTable('backup_kinds', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable();
    t.string('kind', 255).notNullable();
    t.integer('count').notNullable();
    t.primary(['repository', 'snapshot', 'kind']);
  });

  await knex.schema.createTable('backup_volumes', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable();
    t.string('pvc', 255).notNullable();
    t.string('method', 32);
    t.string('storage_class', 255);
    t.string('capacity', 64);
    t.bigInteger('bytes');
    t.primary(['repository', 'snapshot', 'pvc']);
  });

  await knex.schema.createTable('backup_images', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable();
    t.integer('idx').notNullable();
    t.string('container', 255).notNullable();
    t.string('image', 1024).notNullable();
    t.string('digest', 255);
    t.string('owner', 255);
    t.string('pod', 255);
    t.primary(['repository', 'snapshot', 'idx']);
  });

  await knex.schema.createTable('restores', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable().comment('The restore record snapshot');
    t.string('name', 255).notNullable();
    t.string('source_backup', 255).notNullable();
    t.string('source_snapshot', 64).notNullable();
    t.string('source_namespace', 255).notNullable();
    t.string('target_namespace', 255).notNullable();
    t.string('cluster', 255).notNullable();
    t.string('actor', 255).notNullable();
    t.string('time', 30).notNullable();
    t.integer('duration_ms');
    t.string('outcome', 32).notNullable();
    t.text('counts').comment('JSON object');
    t.text('warning_list').comment('JSON array');
    t.text('error');
    t.primary(['repository', 'snapshot']);
    t.index(['target_namespace', 'time'], 'restores_target_time_idx');
    t.index(['source_namespace', 'time'], 'restores_source_time_idx');
  });

  await knex.schema.createTable('restore_items', (t) => {
    t.string('repository', 255).notNullable();
    t.string('snapshot', 64).notNullable();
    t.integer('idx').notNullable();
    t.string('api_version', 255).notNullable();
    t.string('kind', 255).notNullable();
    t.string('namespace', 255);
    t.string('name', 255).notNullable();
    t.string('action', 32).notNullable();
    t.string('outcome', 32).notNullable();
    t.text('reason');
    t.primary(['repository', 'snapshot', 'idx']);
  });

  await knex.schema.createTable('audit_events', (t) => {
    t.string('repository', 255).notNullable();
    t.integer('seq').notNullable();
    t.string('time', 30).notNullable();
    t.string('actor', 255).notNullable();
    t.string('action', 255).notNullable();
    t.string('target', 1024);
    t.string('outcome', 32).notNullable();
    t.string('namespace', 255);
    t.string('cluster', 255);
    t.string('context', 255);
    t.string('host', 255).notNullable();
    t.text('details').comment('JSON object');
    t.primary(['repository', 'seq']);
    t.index(['namespace', 'time'], 'audit_namespace_time_idx');
    t.index(['time'], 'audit_time_idx');
    t.index(['actor'], 'audit_actor_idx');
    t.index(['action'], 'audit_action_idx');
  });

  await knex.schema.createTable('schedules', (t) => {
    t.string('id', 512).primary();
    t.string('entity_ref', 512);
    t.string('cluster', 255);
    t.string('namespace', 255);
    t.string('cron', 255).notNullable();
    t.string('repository', 255).notNullable();
    t.text('retention').comment('JSON retention policy');
    t.string('last_run_at', 30);
    t.string('next_run_at', 30);
  });

  await knex.schema.createTable('schedule_runs', (t) => {
    t.increments('id');
    t.string('schedule_id', 512).notNullable();
    t.string('slot', 30).notNullable().comment('The cron time this run is for');
    t.string('started_at', 30).notNullable();
    t.string('finished_at', 30);
    t.string('outcome', 32);
    t.string('backup', 255);
    t.integer('forgotten');
    t.text('error');
    t.string('instance', 255);
    t.unique(['schedule_id', 'slot']);
  });

  await knex.schema.createTable('operations', (t) => {
    t.string('id', 64).primary();
    t.string('kind', 32).notNullable().comment('backup | verify | restore');
    t.string('entity_ref', 512);
    t.string('repository', 255).notNullable();
    t.string('cluster', 255);
    t.string('namespace', 255);
    t.text('params').comment('JSON');
    t.string('actor', 512).notNullable();
    t.string('status', 32).notNullable().comment('pending | running | succeeded | failed');
    t.text('progress').comment('JSON: the last progress event');
    t.text('result').comment('JSON');
    t.text('error');
    t.string('created_at', 30).notNullable();
    t.string('started_at', 30);
    t.string('finished_at', 30);
    t.index(['entity_ref', 'created_at'], 'operations_entity_idx');
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  for (const table of [
    'operations',
    'schedule_runs',
    'schedules',
    'audit_events',
    'restore_items',
    'restores',
    'backup_images',
    'backup_volumes',
    'backup_kinds',
    'backups',
    'ingest_cursors',
  ]) {
    await knex.schema.dropTableIfExists(table);
  }
}
