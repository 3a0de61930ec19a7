/** The databases every suite runs on: SQLite, and PostgreSQL 15 when the global setup started one. */
import { TestDatabases, type TestDatabaseId } from '@backstage/backend-test-utils';

const PG_ENV = 'BACKSTAGE_TEST_DATABASE_POSTGRES15_CONNECTION_STRING';

export function testDatabases(): TestDatabases {
  if (!process.env[PG_ENV] && process.env.BACKUP_TEST_NO_POSTGRES !== '1') {
    throw new Error(
      'PostgreSQL was not started by the global setup (set BACKUP_TEST_NO_POSTGRES=1 to run on SQLite only)',
    );
  }
  const ids: TestDatabaseId[] = process.env[PG_ENV] ? ['SQLITE_3', 'POSTGRES_15'] : ['SQLITE_3'];
  return TestDatabases.create({ ids, disableDocker: true });
}
