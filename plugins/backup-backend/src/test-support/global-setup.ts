/**
 * vitest globalSetup: one throwaway PostgreSQL for the whole run. Its URL goes to the tests as
 * BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING, which Backstage's TestDatabases reads
 * (POSTGRES_15 then makes a fresh database per `init`). BACKUP_TEST_NO_POSTGRES=1 skips it
 * (the suites then run on SQLite only).
 */
import { startTestPostgres, type TestPostgres } from '../testing/postgres.js';

export const PG_ENV = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';
let pg: TestPostgres | undefined;

export async function setup(): Promise<void> {
  if (process.env.BACKUP_TEST_NO_POSTGRES === '1' || process.env[PG_ENV]) return;
  pg = await startTestPostgres();
  process.env[PG_ENV] = pg.connectionString;
}

export async function teardown(): Promise<void> {
  pg?.stop();
}
