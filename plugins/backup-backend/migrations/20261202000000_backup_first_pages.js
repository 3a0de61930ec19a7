// @ts-check
/**
 * The first page kept ready per backup target — one row per (repository, namespace, cluster), like
 * `backup_totals`: the JSON text of its newest backups (at most 50, newest first, as the backup
 * list gives them), with where each item ends. The ingest rewrites a target's row in the
 * transaction that adds, removes or re-verifies its backups; an entity's first page is then one
 * index lookup. The rows are filled at start-up, after the migrations (`fillFirstPages` in
 * src/database/firstPages.ts: the JSON is made by the database with the plugin's SQL, which a
 * migration cannot import).
 *
 * @param {import('knex').Knex} knex
 */
export async function up(knex) {
  await knex.schema.createTable('backup_first_pages', (t) => {
    t.comment(
      'Per backup target: the JSON of its newest backups, the first list page (kept by the ingest)',
    );
    t.string('namespace', 255).notNullable();
    t.string('cluster', 255).notNullable();
    t.string('repository', 255).notNullable();
    t.integer('item_count').notNullable();
    t.text('items_json').notNullable().comment('The items, comma-separated JSON objects');
    t.text('item_ends')
      .notNullable()
      .comment('Where each item ends in items_json, comma-separated');
    t.primary(['namespace', 'cluster', 'repository']);
  });
}

/** @param {import('knex').Knex} knex */
export async function down(knex) {
  await knex.schema.dropTableIfExists('backup_first_pages');
}
