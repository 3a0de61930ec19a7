/**
 * Entity statuses, and backup list pages with their totals, missed at the same time are read in
 * one SQL statement (a union of their statements), each the same as when read alone (a page's
 * rows in its order); targets with and without a cluster, with and without backups or failures,
 * may share a batch. A failing statement fails only its own caller, and a batch's bound
 * parameters stay within a bound.
 */
import type { BackupSortField, BackupTarget } from '@kubectl-backup/plugin-backup-common';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../test-support/databases.js';
import { backupRecord, migrated } from '../test-support/backupRecords.js';
import { BatchedStatements } from './batchedStatements.js';
import { QueryStore } from './QueryStore.js';

const databases = testDatabases();

describe.each(databases.eachSupportedId())('batched status statements (%s)', (databaseId) => {
  it('reads the statuses of concurrent misses in one statement, each as read alone', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    for (let i = 0; i < 6; i++) {
      await store.addBackup(
        backupRecord({
          repository: i % 2 ? 'main' : 'other',
          snapshot: String(i).repeat(64),
          name: `b-${i}`,
          namespace: i < 4 ? 'shop' : 'cart',
          cluster: i === 5 ? 'dev' : 'prod',
          time: new Date(Date.UTC(2026, 10, 1, i)).toISOString(),
          sizeTotal: 100 * (i + 1),
          sizeAdded: 10,
          storedAdded: 5 + i,
        }),
      );
    }
    await knex('audit_events').insert({
      repository: 'main',
      seq: 1,
      time: '2026-11-02T00:00:00.000Z',
      actor: 'bob',
      action: 'backup.create',
      target: 'x',
      outcome: 'failure',
      namespace: 'cart',
      cluster: 'prod',
      host: 'h',
      details: '{"error":"forbidden"}',
    });
    const targets: BackupTarget[] = [
      { namespace: 'shop', cluster: 'prod' },
      { namespace: 'cart' },
      { namespace: 'cart', cluster: 'prod' },
      { namespace: 'none', cluster: 'prod' },
    ];
    const alone = [];
    for (const t of targets) alone.push(await new QueryStore(knex).targetStatus(t));
    expect(alone.map((s) => s.count)).toEqual([4, 2, 1, 0]);
    expect(alone[2]!.lastFailure?.message).toBe('forbidden');

    let statements = 0;
    knex.on('query', () => statements++);
    const together = await Promise.all(targets.map((t) => new QueryStore(knex).targetStatus(t)));
    expect(statements).toBe(targets.length);
    const queries = new QueryStore(knex);
    statements = 0;
    expect(await Promise.all(targets.map((t) => queries.targetStatus(t)))).toEqual(alone);
    expect(statements).toBe(1);
    expect(together).toEqual(alone);
  });

  it('reads the pages and totals of concurrent misses in one statement, each in its order', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    for (let i = 0; i < 30; i++) {
      await store.addBackup(
        backupRecord({
          snapshot: i.toString(16).padStart(64, '0'),
          name: `${'abc'[(i * 7) % 3]}-${(i * 7) % 30}`,
          namespace: ['shop', 'cart', 'mail'][i % 3]!,
          time: new Date(Date.UTC(2026, 10, 1) + Math.floor(i / 4) * 60_000).toISOString(),
          durationMs: (i * 13) % 7,
          sizeTotal: (i * 11) % 5,
        }),
      );
    }
    const filters = [
      { targets: [{ namespace: 'shop', cluster: 'prod' }] },
      { targets: [{ namespace: 'cart' }] },
      { targets: [{ namespace: 'none' }] },
      { targets: [{ namespace: 'mail' }, { namespace: 'shop' }] },
    ];
    let statements = 0;
    knex.on('query', () => statements++);
    for (const sort of ['time', 'name', 'size', 'duration'] as BackupSortField[]) {
      for (const order of ['asc', 'desc'] as const) {
        const page = { offset: 2, limit: 6 };
        const alone = [];
        for (const f of filters)
          alone.push(await new QueryStore(knex).listBackups(f, sort, order, page));
        expect(alone.map((p) => p.total)).toEqual([10, 10, 0, 20]);
        statements = 0;
        const queries = new QueryStore(knex);
        const together = await Promise.all(
          filters.map((f) => queries.listBackups(f, sort, order, page)),
        );
        expect(statements).toBe(1);
        expect(together).toEqual(alone);
      }
    }
  });

  it('rejects only the caller of a failing statement; the others get their rows', async () => {
    const { knex } = await migrated(databases, databaseId);
    const batched = new BatchedStatements(knex);
    const value = (v: number) => ({ sql: 'select ? as v', bindings: [v] });
    const failing = { sql: 'select v from no_such_table', bindings: [] };
    let statements = 0;
    knex.on('query', () => statements++);
    const results = await Promise.allSettled([
      batched.rows('values', value(1)),
      batched.rows('values', failing),
      batched.rows('values', value(2)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const rows = results.map((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(rows.map((r) => r.map((row) => Number(row.v)))).toEqual([[1], [], [2]]);
    // The union, then each statement alone.
    expect(statements).toBe(4);
    // A batch of one that fails rejects its caller too.
    await expect(batched.rows('values', failing)).rejects.toThrow();
  });

  it('closes a batch at 10,000 bound parameters: a statement with more is run alone', async () => {
    const { knex } = await migrated(databases, databaseId);
    const batched = new BatchedStatements(knex);
    const ofBindings = (v: number, n: number) => ({
      sql: `select ${v} as v where 1 in (${Array(n).fill('?').join(', ')})`,
      bindings: Array<number>(n).fill(1),
    });
    const sizes = [3_000, 4_000, 4_000, 12_000, 1_000];
    const bound: number[] = [];
    knex.on('query', (q: { bindings?: unknown[] }) => bound.push(q.bindings?.length ?? 0));
    const rows = await Promise.all(sizes.map((n, i) => batched.rows('big', ofBindings(i, n))));
    expect(rows.map((r) => r.map((row) => Number(row.v)))).toEqual([[0], [1], [2], [3], [4]]);
    expect(bound).toEqual([7_000, 4_000, 12_000, 1_000]);
  });
});
