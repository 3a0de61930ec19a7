/**
 * `backup_totals` kept by the ingest (inserted and removed backups) and filled by its migration,
 * and read by the status and the backup list: always a COUNT/SUM over the backup rows.
 */
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { expectTotalsOfRows } from '../test-support/backupTotals.js';
import { testDatabases } from '../test-support/databases.js';
import { IngestStore } from './IngestStore.js';
import { MIGRATIONS_DIR, applyDatabaseMigrations } from './migrate.js';
import { QueryStore } from './QueryStore.js';
import type { BackupRecord } from './types.js';

const databases = testDatabases();

const MIGRATIONS = { directory: MIGRATIONS_DIR, tableName: 'backup_knex_migrations' };

/** Backup `i`: 3 namespaces × 2 clusters × 2 repositories, sizes varying with `i`. */
function backup(i: number): BackupRecord {
  return {
    repository: i % 2 ? 'main' : 'offsite',
    snapshot: i.toString(16).padStart(64, '0'),
    name: `b-${i}`,
    namespace: `ns-${i % 3}`,
    cluster: i % 5 < 2 ? 'prod' : 'dev',
    time: new Date(Date.UTC(2026, 10, 1) + i * 3_600_000).toISOString(),
    actor: 'alice',
    resources: 10,
    volumes: 0,
    volumeBytes: 0,
    sizeTotal: 1_000_000_007 * (i + 1),
    sizeAdded: 1000 + i,
    storedAdded: 3_000_000_019 + i,
    warnings: 0,
    tags: [],
    kinds: [{ kind: 'ConfigMap', count: 10 }],
    volumeList: [],
    images: [],
    warningList: [],
  };
}

const snapshotsOf = (bs: BackupRecord[]) => bs.map((b) => b.snapshot);

describe.each(databases.eachSupportedId())('backup totals (%s)', (databaseId) => {
  async function migrated(): Promise<Knex> {
    const knex = await databases.init(databaseId);
    await applyDatabaseMigrations(knex);
    return knex;
  }

  it('follow the backups the ingest adds and removes', async () => {
    const knex = await migrated();
    const store = new IngestStore(knex);
    const backups = Array.from({ length: 40 }, (_, i) => backup(i));
    for (const b of backups) await store.addBackup(b);
    expect(await expectTotalsOfRows(knex)).toHaveLength(12);

    const [main, offsite] = ['main', 'offsite'].map((r) =>
      backups.filter((b) => b.repository === r),
    );
    await store.removeBackups('main', snapshotsOf(main!.slice(0, 7)));
    await expectTotalsOfRows(knex);
    // Already removed, or of another repository: nothing to take away.
    await store.removeBackups('main', snapshotsOf(main!.slice(0, 7)));
    await store.removeBackups('main', snapshotsOf(offsite!));
    await expectTotalsOfRows(knex);
    // A duplicate insert fails as a whole: the totals do not count it.
    await expect(store.addBackup(main![10]!)).rejects.toThrow();
    await expectTotalsOfRows(knex);

    // Every backup of a repository gone: so are its targets' totals.
    await store.removeBackups('offsite', snapshotsOf(offsite!));
    const left = await expectTotalsOfRows(knex);
    expect(left.map((t) => t.target.split('/')[0])).toEqual(left.map(() => 'main'));
    expect(left.reduce((n, t) => n + t.count, 0)).toBe(main!.length - 7);
  });

  it('are filled by their migration from the backups already ingested, and dropped by its down', async () => {
    const knex = await databases.init(databaseId);
    await knex.migrate.up({ ...MIGRATIONS, name: '20261130000000_init.js' });
    await knex.migrate.up({ ...MIGRATIONS, name: '20261130120000_audit_failures_index.js' });
    expect(await knex.schema.hasTable('backup_totals')).toBe(false);
    const store = new IngestStore(knex);
    for (let i = 0; i < 30; i++) {
      // Without the totals table, as the ingest wrote them before this migration.
      await knex('backups').insert({
        ...(({ snapshot, repository, name, namespace, cluster, time, actor }) => ({
          snapshot,
          repository,
          name,
          namespace,
          cluster,
          time,
          actor,
        }))(backup(i)),
        resources: 10,
        volumes: 0,
        volume_bytes: 0,
        size_total: backup(i).sizeTotal,
        size_added: 0,
        stored_added: backup(i).storedAdded,
        warnings: 0,
      });
    }
    await applyDatabaseMigrations(knex);
    expect(await expectTotalsOfRows(knex)).toHaveLength(12);
    await store.addBackup(backup(30));
    await expectTotalsOfRows(knex);

    await knex.migrate.down({ ...MIGRATIONS, name: '20261201000000_backup_totals.js' });
    expect(await knex.schema.hasTable('backup_totals')).toBe(false);
    await applyDatabaseMigrations(knex);
    expect(await expectTotalsOfRows(knex)).toHaveLength(12);
  });

  it('give the status and the list totals of a COUNT/SUM over the rows', async () => {
    const knex = await migrated();
    const store = new IngestStore(knex);
    for (let i = 0; i < 40; i++) await store.addBackup(backup(i));
    await store.removeBackups('main', [backup(1).snapshot, backup(3).snapshot]);
    const queries = new QueryStore(knex);
    const first = { offset: 0, limit: 5 };
    for (const target of [
      { namespace: 'ns-0' },
      { namespace: 'ns-1', cluster: 'prod' },
      { namespace: 'ns-2', cluster: 'nowhere' },
    ]) {
      const rows = knex('backups').where('namespace', target.namespace);
      if (target.cluster) rows.where('cluster', target.cluster);
      const [expected] = await rows
        .count({ count: '*' })
        .sum({ logical: 'size_total', stored: 'stored_added' });
      const status = await queries.targetStatus(target);
      expect([status.count, status.logicalBytes, status.storedBytes]).toEqual([
        Number(expected!.count),
        Number(expected!.logical ?? 0),
        Number(expected!.stored ?? 0),
      ]);
      const list = await queries.listBackups({ targets: [target] }, 'time', 'desc', first);
      expect(list.total).toBe(status.count);
      const inMain = await queries.listBackups(
        { targets: [target], repository: 'main' },
        'time',
        'desc',
        first,
      );
      expect(inMain.total).toBe(
        Number(
          (await rows.clone().clearSelect().where('repository', 'main').count({ n: '*' }))[0]!.n,
        ),
      );
    }
    const all = await queries.listBackups({}, 'time', 'desc', first);
    expect(all.total).toBe(38);
    const several = await queries.listBackups(
      {
        targets: [
          { namespace: 'ns-0' },
          { namespace: 'ns-0', cluster: 'dev' },
          { namespace: 'ns-1' },
        ],
      },
      'time',
      'desc',
      first,
    );
    expect(several.total).toBe(
      Number(
        (await knex('backups').whereIn('namespace', ['ns-0', 'ns-1']).count({ n: '*' }))[0]!.n,
      ),
    );
    expect((await queries.listBackups({ targets: [] }, 'time', 'desc', first)).total).toBe(0);
    // A time filter counts the rows.
    const since = backup(20).time;
    const recent = await queries.listBackups({ since }, 'time', 'desc', first);
    expect(recent.total).toBe(
      Number((await knex('backups').where('time', '>=', since).count({ n: '*' }))[0]!.n),
    );
  });
});
