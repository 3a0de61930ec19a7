/**
 * The first pages kept per target (`backup_first_pages`): after the ingest adds, removes and
 * re-verifies backups, and after their migration's fill, an entity's first page read from them is
 * byte for byte the page computed from the rows; any other request computes its page.
 */
import type { BackupSortField, BackupTarget } from '@kubectl-backup/plugin-backup-common';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { jsonText } from '../sendJson.js';
import { backupRecord, migrated } from '../test-support/backupRecords.js';
import { testDatabases } from '../test-support/databases.js';
import { FIRST_PAGES, FIRST_PAGE_SIZE } from './firstPages.js';
import type { IngestStore } from './IngestStore.js';
import { MIGRATIONS_DIR, applyDatabaseMigrations } from './migrate.js';
import { QueryStore } from './QueryStore.js';
import type { BackupListFilter, PageRequest } from './types.js';

const databases = testDatabases();

const MIGRATION = {
  directory: MIGRATIONS_DIR,
  tableName: 'backup_knex_migrations',
  name: '20261202000000_backup_first_pages.js',
};

const snapshot = (i: number) => i.toString(16).padStart(64, '0');

/**
 * 70 backups of `shop` (prod, main), 5 of `pay` (prod, offsite) and 6 of `both` (prod and dev);
 * pairs at the same time (the snapshot breaks the tie), some verified, tagged, failed.
 */
async function seed(store: IngestStore): Promise<void> {
  for (let i = 0; i < 81; i++) {
    const namespace = i < 70 ? 'shop' : i < 75 ? 'pay' : 'both';
    await store.addBackup(
      backupRecord({
        snapshot: snapshot(i),
        name: `${namespace}-${i}`,
        namespace,
        repository: namespace === 'pay' ? 'offsite' : 'main',
        cluster: namespace === 'both' && i % 2 ? 'dev' : 'prod',
        time: new Date(Date.UTC(2026, 10, 1) + Math.floor(i / 2) * 60_000).toISOString(),
        durationMs: i % 4 ? i * 1000 : undefined,
        sizeTotal: 2 ** 40 + i,
        tags: i % 3 ? [`t-${i}`, 'ünïcode "quoted"'] : [],
        verification:
          i % 5 === 0
            ? { result: 'ok', time: '2026-11-30T00:00:00.000Z', record: `v-${i}` }
            : undefined,
        error: i % 7 === 0 ? 'manifest unreadable: \\ "x"\n' : undefined,
      }),
    );
  }
}

const SHOP = { namespace: 'shop' };
const TARGETS: BackupTarget[] = [
  SHOP,
  { namespace: 'shop', cluster: 'prod' },
  { namespace: 'pay', cluster: 'prod' },
  { namespace: 'nowhere' },
];
const LIMITS = [1, 7, FIRST_PAGE_SIZE];

describe.each(databases.eachSupportedId())('kept first pages (%s)', (databaseId) => {
  /** The statements a list request ran, and the page's JSON text. */
  async function listed(
    knex: Knex,
    f: BackupListFilter,
    p: PageRequest,
    sort: BackupSortField = 'time',
    order: 'asc' | 'desc' = 'desc',
  ) {
    const sql: string[] = [];
    const record = (q: { sql: string }) => sql.push(q.sql);
    knex.on('query', record);
    try {
      const text = jsonText(await new QueryStore(knex).listBackups(f, sort, order, p));
      const kept = sql.some((s) => s.includes(FIRST_PAGES));
      return { text, kept, computed: sql.some((s) => /["`]backups["`]/.test(s)) };
    } finally {
      knex.off('query', record);
    }
  }

  /** Each target's kept first pages equal the pages computed from the rows (a bypassing shape). */
  async function expectKeptAsComputed(knex: Knex) {
    for (const target of TARGETS)
      for (const limit of LIMITS) {
        const p = { offset: 0, limit };
        const kept = await listed(knex, { targets: [target] }, p);
        const byRepository = await listed(
          knex,
          { targets: [target], repository: target.namespace === 'pay' ? 'offsite' : 'main' },
          p,
        );
        expect(kept.kept).toBe(true);
        // Answered from the kept page without reading the rows; only a target without backups
        // (no totals row, no page) falls back to the computed page.
        expect(kept.computed).toBe(target.namespace === 'nowhere');
        expect(byRepository.kept).toBe(false);
        expect(kept.text).toBe(byRepository.text);
      }
  }

  it('equal the computed pages after the ingest adds, forgets and re-verifies backups', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    await seed(store);
    const shop = await listed(knex, { targets: [SHOP] }, { offset: 0, limit: FIRST_PAGE_SIZE });
    expect(JSON.parse(shop.text)).toMatchObject({ total: 70, offset: 0, limit: 50 });
    expect(shop).toMatchObject({ kept: true, computed: false });
    await expectKeptAsComputed(knex);

    // Forgotten: the newest of shop (the page shifts), some of pay, and a missing one.
    await store.removeBackups('main', [...[69, 68, 40, 3].map(snapshot), snapshot(999)]);
    await store.removeBackups('offsite', [snapshot(71)]);
    // Verified and unverified since.
    await store.setVerification('main', snapshot(66), {
      result: 'failed',
      time: '2026-12-01T00:00:00.000Z',
      record: 'v-late',
    });
    await store.setVerification('main', snapshot(65), undefined);
    await expectKeptAsComputed(knex);
    expect(
      JSON.parse((await listed(knex, { targets: [SHOP] }, { offset: 0, limit: 3 })).text),
    ).toMatchObject({
      total: 66,
      items: [
        { name: 'shop-67' },
        { name: 'shop-66', verification: { result: 'failed', record: 'v-late' } },
        { name: 'shop-65' },
      ],
    });
    expect(
      JSON.parse((await listed(knex, { targets: [SHOP] }, { offset: 0, limit: 3 })).text).items[2],
    ).not.toHaveProperty('verification');

    // Every backup of pay gone: its page with them.
    await store.removeBackups('offsite', [70, 72, 73, 74].map(snapshot));
    expect(await knex(FIRST_PAGES).where('namespace', 'pay')).toEqual([]);
    const pay = await listed(knex, { targets: [{ namespace: 'pay' }] }, { offset: 0, limit: 5 });
    expect(pay.text).toBe('{"items":[],"total":0,"offset":0,"limit":5}');
  });

  it('are filled after their migration from the backups already ingested', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    await seed(store);
    const before = await knex(FIRST_PAGES).orderBy(['namespace', 'cluster', 'repository']);
    expect(before).toHaveLength(4);

    await knex.migrate.down(MIGRATION);
    expect(await knex.schema.hasTable(FIRST_PAGES)).toBe(false);
    // Changed as the ingest did before this migration (no pages kept).
    await knex('backups')
      .where({ snapshot: snapshot(69) })
      .delete();
    await knex('backups')
      .where({ snapshot: snapshot(68) })
      .update({ error: 'late' });
    await knex('backup_totals').where({ namespace: 'shop' }).decrement('backup_count', 1);
    await applyDatabaseMigrations(knex);
    const after = await knex(FIRST_PAGES).orderBy(['namespace', 'cluster', 'repository']);
    expect(after).toHaveLength(4);
    expect(after.filter((r) => r.namespace !== 'shop')).toEqual(
      before.filter((r) => r.namespace !== 'shop'),
    );
    await expectKeptAsComputed(knex);
  });

  it('are not used once a writer that keeps no pages changed the target’s backups', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    await seed(store);
    const shop = { targets: [SHOP] };
    const first = { offset: 0, limit: FIRST_PAGE_SIZE };
    expect(await listed(knex, shop, first)).toMatchObject({ kept: true, computed: false });
    // An older replica (or manual SQL) inserts a newest backup and counts it, but leaves the page:
    // 71 backups, and the stale page still holds min(71, 50) items.
    const newest = await knex('backups')
      .where({ snapshot: snapshot(69) })
      .first();
    await knex('backups').insert({
      ...newest,
      snapshot: snapshot(500),
      name: 'shop-late',
      time: '2026-12-31T00:00:00.000Z',
    });
    await knex('backup_totals')
      .where({ repository: 'main', namespace: 'shop', cluster: 'prod' })
      .increment('backup_count', 1);
    const stale = await knex(FIRST_PAGES).where({ namespace: 'shop' }).first();
    expect(stale).toMatchObject({ item_count: FIRST_PAGE_SIZE, built_total: 70 });
    expect(stale.items_json).not.toContain('shop-late');

    const after = await listed(knex, shop, first);
    expect(after.computed).toBe(true);
    expect(JSON.parse(after.text)).toMatchObject({ total: 71 });
    expect(JSON.parse(after.text).items[0]).toMatchObject({ name: 'shop-late' });
    expect(after.text).toBe((await listed(knex, { ...shop, repository: 'main' }, first)).text);
    // A backup removed behind the page's back: not used either.
    await knex('backups')
      .where({ snapshot: snapshot(500) })
      .delete();
    await knex('backups')
      .where({ snapshot: snapshot(69) })
      .delete();
    await knex('backup_totals')
      .where({ repository: 'main', namespace: 'shop', cluster: 'prod' })
      .decrement('backup_count', 2);
    const removed = await listed(knex, shop, first);
    expect(removed.computed).toBe(true);
    expect(JSON.parse(removed.text)).toMatchObject({ total: 69 });
    expect(JSON.parse(removed.text).items[0]).toMatchObject({ name: 'shop-68' });

    // Once the ingest rewrites the page, it answers again, as computed.
    await store.setVerification('main', snapshot(68), undefined);
    expect(await knex(FIRST_PAGES).where({ namespace: 'shop' }).first()).toMatchObject({
      built_total: 69,
    });
    const rewritten = await listed(knex, shop, first);
    expect(rewritten).toMatchObject({ kept: true, computed: false });
    expect(rewritten.text).toBe(removed.text);
  });

  it('answer only one target’s first page in the default order, without other filters', async () => {
    const { knex, store } = await migrated(databases, databaseId);
    await seed(store);
    // A kept page that is not the computed one shows which answered.
    const marker = '{"kept":true}';
    await knex(FIRST_PAGES)
      .update({
        items_json: Array(FIRST_PAGE_SIZE).fill(marker).join(','),
        item_ends: Array.from({ length: FIRST_PAGE_SIZE }, (_, i) => (i + 1) * 14 - 1).join(','),
      })
      .where({ namespace: 'shop' });
    const first = { offset: 0, limit: 2 };
    const shop = { targets: [SHOP] };
    expect((await listed(knex, shop, first)).text).toBe(
      `{"items":[${marker},${marker}],"total":70,"offset":0,"limit":2}`,
    );
    const bypassing: Array<Parameters<typeof listed>> = [
      [knex, { ...shop, since: '2026-11-01T00:00:00.000Z' }, first],
      [knex, { ...shop, until: '2027-11-01T00:00:00.000Z' }, first],
      [knex, { ...shop, repository: 'main' }, first],
      [knex, { ...shop, namespace: 'shop' }, first],
      [knex, { ...shop, cluster: 'prod' }, first],
      [knex, shop, { offset: 1, limit: 2 }],
      [knex, shop, { offset: 0, limit: FIRST_PAGE_SIZE + 1 }],
      [knex, shop, first, 'name'],
      [knex, shop, first, 'time', 'asc'],
      [knex, { targets: [SHOP, { namespace: 'pay' }] }, first],
      [knex, {}, first],
      // Two targets (prod and dev) in one namespace.
      [knex, { targets: [{ namespace: 'both' }] }, first],
    ];
    for (const args of bypassing) {
      const r = await listed(...args);
      expect(r.text).not.toContain(marker);
      expect(r.computed).toBe(true);
    }
    const both = await listed(knex, { targets: [{ namespace: 'both' }] }, first);
    expect(JSON.parse(both.text)).toMatchObject({ total: 6 });
    // A kept page of the wrong size (not kept as the ingest would) is not used either.
    await knex(FIRST_PAGES).update({ item_count: 3 }).where({ namespace: 'shop' });
    expect((await listed(knex, shop, first)).text).not.toContain(marker);
  });
});
