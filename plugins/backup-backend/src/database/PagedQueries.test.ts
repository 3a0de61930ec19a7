/**
 * Backup list pages whose total comes from `backup_totals`: the page and its total in one SQL
 * statement (the page alone when the total is cached), the same rows in the same order as the
 * rows query alone, and an empty page beyond the end still gives the total.
 */
import type { BackupSortField } from '@kubectl-backup/plugin-backup-common';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../test-support/databases.js';
import { backupRecord, migrated } from '../test-support/backupRecords.js';
import { QueryStore } from './QueryStore.js';

const databases = testDatabases();

describe.each(databases.eachSupportedId())('backup list pages (%s)', (databaseId) => {
  async function seeded(): Promise<Knex> {
    const { knex, store } = await migrated(databases, databaseId);
    for (let i = 0; i < 30; i++) {
      await store.addBackup(
        backupRecord({
          snapshot: i.toString(16).padStart(64, '0'),
          name: `b-${(i * 7) % 30}`,
          namespace: i % 3 ? 'shop' : 'other',
          // Pairs of backups at the same time: the snapshot breaks the tie.
          time: new Date(Date.UTC(2026, 10, 1) + Math.floor(i / 2) * 60_000).toISOString(),
          durationMs: (i * 13) % 7,
          sizeTotal: (i * 11) % 5,
        }),
      );
    }
    return knex;
  }

  const SORT_COLUMNS = { time: 'time', name: 'name', size: 'size_total', duration: 'duration_ms' };

  it('reads a page and its total in one statement, in the order of the rows', async () => {
    const knex = await seeded();
    let statements = 0;
    knex.on('query', () => statements++);
    const queries = new QueryStore(knex);
    const shop = { targets: [{ namespace: 'shop', cluster: 'prod' }] };
    for (const [sort, column] of Object.entries(SORT_COLUMNS)) {
      for (const order of ['asc', 'desc'] as const) {
        for (const offset of [0, 7, 19, 20, 25]) {
          const expected = (await knex('backups')
            .where('namespace', 'shop')
            .orderBy([
              { column, order },
              { column: 'snapshot', order },
            ])
            .offset(offset)
            .limit(6)
            .select('name')) as Array<{ name: string }>;
          const before = statements;
          const page = await queries.listBackups(shop, sort as BackupSortField, order, {
            offset,
            limit: 6,
          });
          expect(statements - before).toBe(1);
          expect(page.total).toBe(20);
          expect(page.items.map((b) => b.name)).toEqual(expected.map((r) => r.name));
        }
      }
    }
    const none = await queries.listBackups(
      { targets: [{ namespace: 'nowhere' }] },
      'time',
      'desc',
      { offset: 0, limit: 6 },
    );
    expect(none).toEqual({ items: [], total: 0, offset: 0, limit: 6 });
  });

  it('reads the page alone when the total is cached', async () => {
    const knex = await seeded();
    const sql: string[] = [];
    knex.on('query', (q: { sql: string }) => sql.push(q.sql));
    const queries = new QueryStore(knex, { ttlMs: 60_000 });
    // With a repository: computed, not read from the kept first page (firstPages.test.ts).
    const shop = { targets: [{ namespace: 'shop' }], repository: 'main' };
    const first = await queries.listBackups(shop, 'time', 'desc', { offset: 0, limit: 6 });
    expect(sql).toHaveLength(1);
    expect(sql[0]).toContain('backup_totals');
    const second = await queries.listBackups(shop, 'time', 'desc', { offset: 6, limit: 6 });
    expect(sql).toHaveLength(2);
    expect(sql[1]).not.toContain('backup_totals');
    expect([first.total, second.total]).toEqual([20, 20]);
    expect(new Set([...first.items, ...second.items].map((b) => b.name)).size).toBe(12);
  });
});
