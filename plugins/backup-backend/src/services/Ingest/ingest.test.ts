/**
 * The ingest against a real repository written by @kubectl-backup/k8s (backups, a restore, a
 * verification) from a kube-sim: rows match what the library reads, runs are incremental,
 * forgotten snapshots disappear, a broken audit chain is flagged.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mockServices } from '@backstage/backend-test-utils';
import { deleteSnapshots, readAuditLog } from '@kubectl-backup/engine';
import { listBackups } from '@kubectl-backup/k8s';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestStore } from '../../database/IngestStore.js';
import { applyDatabaseMigrations } from '../../database/migrate.js';
import { QueryStore } from '../../database/QueryStore.js';
import { PASSWORD, startFixture, type Fixture } from '../../test-support/repository.js';
import { RepositoryPool } from '../Repositories/RepositoryPool.js';
import { createIngestService } from './createIngestService.js';
import { ingestChangedRows, type IngestService } from './types.js';
import { expectTotalsOfRows } from '../../test-support/backupTotals.js';
import { testDatabases } from '../../test-support/databases.js';

const databases = testDatabases();

describe.each(databases.eachSupportedId())('ingest (%s)', (databaseId) => {
  let fx: Fixture;
  let knex: Knex;
  let ingest: IngestService;
  let queries: QueryStore;

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.backup('shop', 'shop-1', 'alice');
    await fx.backup('shop', 'shop-2', 'bob');
    await fx.restore('shop-1', 'shop-copy');
    await fx.verify('shop-2');
    knex = await databases.init(databaseId);
    await applyDatabaseMigrations(knex);
    const repositories = new RepositoryPool([
      { name: 'main', url: fx.repoDir, password: PASSWORD },
    ]);
    // Read caches on (as in the plugin), so every assertion after an ingest also checks that
    // the ingest cleared them.
    queries = new QueryStore(knex, { ttlMs: 3_600_000 });
    ingest = createIngestService({
      repositories,
      store: new IngestStore(knex),
      logger: mockServices.logger.mock(),
      onResult: (r) => {
        if (ingestChangedRows(r)) queries.changed();
      },
    });
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  it('mirrors backups, items, restores and the audit log as the library reads them', async () => {
    const result = await ingest.ingestRepository('main');
    expect(result).toMatchObject({
      repository: 'main',
      backupsAdded: 2,
      backupsRemoved: 0,
      restoresAdded: 1,
      auditChainOk: true,
    });
    expect(result.error).toBeUndefined();

    const fromLibrary = await fx.withRepo((repo) => listBackups(repo));
    const page = await queries.listBackups({}, 'time', 'asc', { offset: 0, limit: 10 });
    expect(page.total).toBe(2);
    expect(
      page.items.map((b) => [
        b.name,
        b.snapshot,
        b.namespace,
        b.cluster,
        b.actor,
        b.resources,
        b.sizeTotal,
        b.sizeAdded,
      ]),
    ).toEqual(
      fromLibrary.map((b) => [
        b.name,
        b.snapshot,
        b.namespace,
        b.cluster,
        b.actor,
        b.resources,
        b.sizeTotal,
        b.sizeAdded,
      ]),
    );
    expect(await expectTotalsOfRows(knex)).toMatchObject([
      { target: 'main/kube-sim/shop', count: 2 },
    ]);
    expect(page.items[1]!.verification).toMatchObject({ result: 'passed' });
    expect(page.items[0]!.verification).toBeUndefined();

    const details = await queries.getBackup('main', 'shop-1');
    const kinds = Object.fromEntries(details!.kinds.map((k) => [k.kind, k.count]));
    expect(kinds).toMatchObject({ ConfigMap: 1, Secret: 1, Deployment: 1 });
    expect(details!.kinds.reduce((n, k) => n + k.count, 0)).toBe(details!.resources);
    expect(details!.images.map((i) => i.image)).toContain('nginx:1.27');
    expect(details!.restores.map((r) => [r.name, r.targetNamespace])).toEqual([
      [expect.stringContaining('shop-1'), 'shop-copy'],
    ]);

    const restore = await queries.getRestore('main', details!.restores[0]!.name);
    expect(restore).toMatchObject({
      source: { backup: 'shop-1', namespace: 'shop' },
      targetNamespace: 'shop-copy',
    });
    expect(restore!.items.length).toBeGreaterThan(0);
    expect(
      restore!.items.find((i) => i.kind === 'ConfigMap' && i.name === 'settings'),
    ).toMatchObject({ outcome: 'created' });

    const entries = await fx.withRepo((repo) => readAuditLog(repo));
    const audit = await queries.listAudit({}, { offset: 0, limit: 100 });
    expect(audit.total).toBe(entries.length);
    expect(audit.items.map((e) => e.action).sort()).toEqual(entries.map((e) => e.action).sort());
    expect(
      audit.items
        .filter((e) => e.action === 'backup.create')
        .map((e) => e.actor)
        .sort(),
    ).toEqual(['alice', 'bob']);
  });

  it('reads only what is new on the next run', async () => {
    const again = await ingest.ingestRepository('main');
    expect(again).toMatchObject({
      backupsAdded: 0,
      backupsRemoved: 0,
      restoresAdded: 0,
      auditAdded: 0,
      auditChainOk: true,
    });
    await fx.backup('shop', 'shop-3', 'carol');
    const third = await ingest.ingestRepository('main');
    expect(third).toMatchObject({ backupsAdded: 1, auditAdded: 1 });
    expect(
      (await queries.listBackups({}, 'time', 'desc', { offset: 0, limit: 1 })).items[0]!.name,
    ).toBe('shop-3');
    expect(await expectTotalsOfRows(knex)).toMatchObject([{ count: 3 }]);
  });

  it('removes rows of forgotten snapshots', async () => {
    const shop1 = await queries.getBackup('main', 'shop-1');
    await fx.withRepo((repo) => deleteSnapshots(repo, [shop1!.snapshot]));
    const result = await ingest.ingestRepository('main');
    expect(result.backupsRemoved).toBe(1);
    expect(await queries.getBackup('main', 'shop-1')).toBeUndefined();
    expect((await knex('backup_kinds').where({ snapshot: shop1!.snapshot })).length).toBe(0);
    expect(
      (await queries.listBackups({}, 'time', 'asc', { offset: 0, limit: 10 })).items.map(
        (b) => b.name,
      ),
    ).toEqual(['shop-2', 'shop-3']);
    expect(await expectTotalsOfRows(knex)).toMatchObject([{ count: 2 }]);
  });

  it('flags a broken audit chain (an entry deleted from the repository)', async () => {
    const auditDir = join(fx.repoDir, 'audit');
    const files = readdirSync(auditDir, { recursive: true, withFileTypes: true }).filter((f) =>
      f.isFile(),
    );
    expect(files.length).toBeGreaterThan(2);
    const second = files.map((f) => join(f.parentPath, f.name)).sort()[1]!;
    rmSync(second);
    const result = await ingest.ingestRepository('main');
    expect(result.auditChainOk).toBe(false);
    const [state] = await queries.repositoryStates(new Map([['main', fx.repoDir]]));
    expect(state!.auditChain).toMatchObject({
      ok: false,
      problem: { seq: 3, reason: expect.stringContaining('gap') },
    });
  });

  it('reports an unreadable repository without throwing', async () => {
    const bad = createIngestService({
      repositories: new RepositoryPool([
        { name: 'wrong', url: fx.repoDir, password: 'not-the-password' },
      ]),
      store: new IngestStore(knex),
      logger: mockServices.logger.mock(),
    });
    const [result] = await bad.ingestAll();
    expect(result!.error).toMatch(/password/i);
    const [state] = await queries.repositoryStates(new Map([['wrong', fx.repoDir]]));
    expect(state!.lastError).toMatch(/password/i);
  });
});
