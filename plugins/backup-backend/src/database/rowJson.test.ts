/**
 * Backup list pages read as JSON made by the database: one text per row (not its columns), the
 * same summary as the row mapped in JS (nulls left out, tags and verification as JSON, sizes as
 * numbers, strings escaped), and the page sent as the database's text.
 */
import type { BackupDetails, BackupSummary } from '@kubectl-backup/plugin-backup-common';
import { describe, expect, it } from 'vitest';
import { jsonText } from '../sendJson.js';
import { testDatabases } from '../test-support/databases.js';
import { backupRecord, migrated } from '../test-support/backupRecords.js';
import { FIRST_PAGES, fillFirstPages } from './firstPages.js';
import { QueryStore } from './QueryStore.js';

const databases = testDatabases();

/** A backup's summary: its details less the fields only the details have. */
function summaryOf(d: BackupDetails): BackupSummary {
  const { kinds, volumeList, images, warningList, restores, ...summary } = d;
  void [kinds, volumeList, images, warningList, restores];
  return summary;
}

describe.each(databases.eachSupportedId())('backup list pages as JSON (%s)', (databaseId) => {
  it('gives the summaries the rows map to, from one JSON text per row', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    for (let i = 0; i < 4; i++) {
      await store.addBackup(
        backupRecord({
          snapshot: String(i).repeat(64),
          name: `b-${i}`,
          namespace: 'shop',
          time: new Date(Date.UTC(2026, 10, 1, i)).toISOString(),
          durationMs: i === 1 ? undefined : 1_000 * i,
          actor: i === 2 ? 'système "quoted" \\ ✓' : 'alice',
          resources: 40 + i,
          volumes: i,
          volumeBytes: 2 ** 40 + i,
          sizeTotal: 5_000_000_123 * (i + 1),
          storedAdded: 17,
          warnings: i,
          tags: i === 3 ? [] : ['schedule=nightly', `t"${i}`],
          verification:
            i % 2
              ? { result: 'passed', time: '2026-11-02T00:00:00.000Z', record: `v-${i}` }
              : undefined,
          error: i === 2 ? 'manifest unreadable:\n"bad"' : undefined,
        }),
      );
    }
    const sql: string[] = [];
    knex.on('query', (q: { sql: string }) => sql.push(q.sql));
    const queries = new QueryStore(knex);
    // Computed from the rows (with a repository, not from the kept first page: firstPages.test.ts).
    const shop = { targets: [{ namespace: 'shop' }], repository: 'main' };
    const page = await queries.listBackups(shop, 'time', 'desc', { offset: 0, limit: 10 });
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(databaseId.startsWith('POSTGRES') ? /json_strip_nulls/ : /json_patch/);
    expect(sql[0]).not.toContain('"duration_ms", "actor"');
    const expected = [];
    for (const name of ['b-3', 'b-2', 'b-1', 'b-0'])
      expected.push(summaryOf((await queries.getBackup('main', name))!));
    expect(expected[2]).not.toHaveProperty('durationMs');
    expect(expected[1]).toHaveProperty('error');
    expect(page.items).toEqual(expected);
    // The text sent is the database's, the same as serializing the page.
    expect(jsonText(page)).toBe(
      JSON.stringify({ items: expected, total: 4, offset: 0, limit: 10 }),
    );
  });

  it('gives a verification only when its result, time and record all are: the same from the list, the details and the status', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    const verified = { result: 'passed', time: '2026-11-02T00:00:00.000Z', record: 'v-1' };
    const missing = [undefined, 'verification_time', 'verification_record', 'verification_result'];
    for (const [i, column] of missing.entries()) {
      const name = `b-${i}`;
      await store.addBackup(
        backupRecord({
          snapshot: String(i).repeat(64),
          name,
          namespace: name,
          time: '2026-11-01T00:00:00.000Z',
          verification: verified,
        }),
      );
      if (column)
        await knex('backups')
          .where({ name })
          .update({ [column]: null });
    }
    // Written behind the ingest's back: its kept first pages made again from the rows.
    await knex(FIRST_PAGES).delete();
    await fillFirstPages(knex);
    const queries = new QueryStore(knex);
    const bodies = [];
    for (const [i] of missing.entries()) {
      const target = { namespace: `b-${i}` };
      const page = await queries.listBackups({ targets: [target] }, 'time', 'desc', {
        offset: 0,
        limit: 10,
      });
      const details = summaryOf((await queries.getBackup('main', `b-${i}`))!);
      const { last } = await queries.targetStatus(target);
      const body = JSON.stringify(page.items[0]);
      expect(JSON.stringify(details)).toBe(body);
      expect(JSON.stringify(last)).toBe(body);
      bodies.push(page.items[0]!);
    }
    expect(bodies.map((b) => b.verification)).toEqual([verified, undefined, undefined, undefined]);
  });
});
