/** The shipped knex migrations (`<package>/migrations`), applied at start-up. */
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { fillFirstPages } from './firstPages.js';

/** From `src/database/` (tests) and `dist/database/` (built) alike. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function applyDatabaseMigrations(knex: Knex): Promise<void> {
  await knex.migrate.latest({ directory: MIGRATIONS_DIR, tableName: 'backup_knex_migrations' });
  // The kept first pages' JSON is made with the plugin's SQL, which a migration cannot import.
  await fillFirstPages(knex);
}
