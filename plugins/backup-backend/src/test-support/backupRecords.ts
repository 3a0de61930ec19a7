/** Database suites' seeding: a migrated database with its ingest store, and backup records. */
import type { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';
import type { Knex } from 'knex';
import { IngestStore } from '../database/IngestStore.js';
import { applyDatabaseMigrations } from '../database/migrate.js';
import type { BackupRecord } from '../database/types.js';

export async function migrated(
  databases: TestDatabases,
  id: TestDatabaseId,
): Promise<{ knex: Knex; store: IngestStore }> {
  const knex = await databases.init(id);
  await applyDatabaseMigrations(knex);
  return { knex, store: new IngestStore(knex) };
}

/** A backup of `main` in `prod` by alice, without items; the fields given replace those. */
export function backupRecord(
  fields: Pick<BackupRecord, 'snapshot' | 'name' | 'namespace' | 'time'> & Partial<BackupRecord>,
): BackupRecord {
  return {
    repository: 'main',
    cluster: 'prod',
    actor: 'alice',
    resources: 1,
    volumes: 0,
    volumeBytes: 0,
    sizeTotal: 0,
    sizeAdded: 0,
    storedAdded: 1,
    warnings: 0,
    tags: [],
    kinds: [],
    volumeList: [],
    images: [],
    warningList: [],
    ...fields,
  };
}
