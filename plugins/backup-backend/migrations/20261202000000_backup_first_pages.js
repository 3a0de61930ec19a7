// @ts-check
/**
 * The first page kept ready per backup target — one row per (repository, namespace, cluster), like
 * `backup_totals`: the JSON text of its newest backups (at most 50, newest first, as the backup
 * list gives them), with where each item ends. The ingest rewrites a target's row in the
 * transaction that adds, removes or re-verifies its backups; an entity's first page is then one
 * index lookup. `built_total` is the target's `backup_totals.backup_count` when the page was
 * built: a backup added or removed by a writer that does not rewrite pages (an older replica during
 * a rolling deploy, manual SQL) changes the count, and the page is no longer used. The rows are filled at start-up, after the migrations (`fillFirstPages` in
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
    t.integer('built_total')
      .notNullable()
      .comment(
        "The target's backup_count the page was built from: the page answers only while they are equal",
      );
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
