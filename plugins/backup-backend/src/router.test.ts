/**
 * Every read route through a real backend (startTestBackend + supertest) over a repository
 * written by @kubectl-backup/k8s against kube-sim: happy paths, bad input (400), unknown
 * records (404), no credentials (401) and a user without the permission (403).
 */
import type { TestBackend } from '@backstage/backend-test-utils';

import type { BackupSummary, EntityStatus, Page } from '@kubectl-backup/plugin-backup-common';
import type { Knex } from 'knex';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, auth, component, OUTSIDER, READER, startBackend } from './test-support/backend.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';
import { testDatabases } from './test-support/databases.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';

describe.each(databases.eachSupportedId())('REST API: read routes (%s)', (databaseId) => {
  let fx: Fixture;
  let backend: TestBackend;
  let knex: Knex;
  const api = () => request(backend.server);

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.seedNamespace('pay');
    await fx.backup('shop', 'shop-1', 'alice');
    await fx.backup('shop', 'shop-2', 'bob');
    await fx.backup('pay', 'pay-1', 'carol');
    await fx.restore('shop-1', 'shop-copy');
    knex = await databases.init(databaseId);
    backend = await startBackend({
      knex,
      config: {
        backup: {
          repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }],
          rpo: { default: '1h' },
        },
      },
      entities: [
        component('shop', { [NS]: 'shop' }),
        component('pay', { [NS]: 'pay' }),
        component('plain'),
      ],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await fx?.dispose();
  });

  it('answers /health without credentials and 401 elsewhere', async () => {
    expect((await api().get('/api/backup/health')).body).toEqual({ status: 'ok' });
    for (const path of [
      '/backups',
      '/restores',
      '/audit',
      '/repositories',
      '/entities/component/default/shop/status',
      '/backups/main/shop-1',
    ]) {
      const res = await api().get(`/api/backup${path}`);
      expect(res.status, path).toBe(401);
    }
  });

  describe('entity status', () => {
    it('gives the last backup, its age against the RPO, sizes and counts', async () => {
      const res = await api()
        .get('/api/backup/entities/component/default/shop/status')
        .set(auth(ADMIN));
      expect(res.status).toBe(200);
      const s = res.body as EntityStatus;
      expect(s).toMatchObject({
        entityRef: 'component:default/shop',
        configured: true,
        target: { namespace: 'shop' },
        backups: 2,
        rpo: { seconds: 3600, state: 'ok' },
      });
      expect(s.lastBackup).toMatchObject({ name: 'shop-2', actor: 'bob', repository: 'main' });
      expect(s.ageSeconds).toBeGreaterThanOrEqual(0);
      expect(s.ageSeconds).toBeLessThan(3600);
      expect(s.size!.lastBytes).toBe(s.lastBackup!.sizeTotal);
      expect(s.size!.logicalBytes).toBeGreaterThan(s.size!.lastBytes);
      expect(s.size!.dedupRatio).toBeGreaterThan(1);
    });

    it('says "not configured" for an entity without a namespace annotation', async () => {
      const res = await api()
        .get('/api/backup/entities/component/default/plain/status')
        .set(auth(ADMIN));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        entityRef: 'component:default/plain',
        configured: false,
        reason: expect.stringContaining(NS),
        backups: 0,
      });
    });

    it('404 for an unknown entity, 403 without the permission', async () => {
      expect(
        (await api().get('/api/backup/entities/component/default/nope/status').set(auth(ADMIN)))
          .status,
      ).toBe(404);
      expect(
        (await api().get('/api/backup/entities/component/default/pay/status').set(auth(READER)))
          .status,
      ).toBe(403);
      expect(
        (await api().get('/api/backup/entities/component/default/shop/status').set(auth(READER)))
          .status,
      ).toBe(200);
    });
  });

  describe('backups', () => {
    it('lists, filters, sorts and paginates', async () => {
      const all = (await api().get('/api/backup/backups').set(auth(ADMIN)))
        .body as Page<BackupSummary>;
      expect(all.total).toBe(3);
      expect(all.items.map((b) => b.name)).toEqual(['pay-1', 'shop-2', 'shop-1']);
      const byName = (
        await api().get('/api/backup/backups?sort=name&order=asc&limit=2&offset=1').set(auth(ADMIN))
      ).body as Page<BackupSummary>;
      expect(byName).toMatchObject({ total: 3, offset: 1, limit: 2 });
      expect(byName.items.map((b) => b.name)).toEqual(['shop-1', 'shop-2']);
      const ofEntity = (
        await api().get('/api/backup/backups?entityRef=component:default/pay').set(auth(ADMIN))
      ).body as Page<BackupSummary>;
      expect(ofEntity.items.map((b) => b.name)).toEqual(['pay-1']);
      const since = all.items.find((b) => b.name === 'shop-2')!.time;
      const recent = (
        await api()
          .get(`/api/backup/backups?namespace=shop&since=${encodeURIComponent(since)}`)
          .set(auth(ADMIN))
      ).body as Page<BackupSummary>;
      expect(recent.items.map((b) => b.name)).toEqual(['shop-2']);
    });

    it('shows a restricted user only the entities it may read', async () => {
      const res = await api().get('/api/backup/backups').set(auth(READER));
      expect(res.status).toBe(200);
      expect((res.body as Page<BackupSummary>).items.map((b) => b.name)).toEqual([
        'shop-2',
        'shop-1',
      ]);
      expect(
        (await api().get('/api/backup/backups?entityRef=component:default/pay').set(auth(READER)))
          .status,
      ).toBe(403);
      expect((await api().get('/api/backup/backups').set(auth(OUTSIDER))).status).toBe(403);
    });

    it("answers an entity's first page (kept by the ingest) as the computed one, byte for byte", async () => {
      const body = async (query: string, user = ADMIN) => {
        const res = await api().get(`/api/backup/backups?${query}`).set(auth(user));
        expect(res.status).toBe(200);
        return res.text;
      };
      // A kept page that is not the computed one shows that the kept page answers (limit 3 is
      // asked nowhere else, so no cached page answers instead); then the kept page is put back.
      const marker = '{"kept":true}';
      const kept = await knex('backup_first_pages').where({ namespace: 'shop' });
      expect(kept).toHaveLength(1);
      await knex('backup_first_pages')
        .where({ namespace: 'shop' })
        .update({ items_json: `${marker},${marker}`, item_ends: '13,27' });
      try {
        const marked = `{"items":[${marker},${marker}],"total":2,"offset":0,"limit":3}`;
        expect(await body('limit=3', READER)).toBe(marked);
        expect(await body('entityRef=component:default/shop&limit=3')).toBe(marked);
      } finally {
        await knex('backup_first_pages').where({ namespace: 'shop' }).update(kept[0]);
      }
      for (const limit of [1, 50]) {
        const shop = `entityRef=component:default/shop&limit=${limit}`;
        // With a repository filter the page is computed from the rows.
        expect(await body(shop)).toBe(await body(`${shop}&repository=main`));
      }
      // A restricted user's list is its one entity's: the kept page, as it is computed.
      expect(await body('limit=50', READER)).toBe(await body('limit=50&repository=main', READER));
      expect(await body('limit=50', READER)).toBe(
        await body('entityRef=component:default/shop&limit=50'),
      );
    });

    it('rejects bad input with 400 and says what is wrong', async () => {
      for (const query of [
        'limit=0',
        'limit=501',
        'offset=-1',
        'sort=bogus',
        'order=up',
        'since=yesterday',
        'colour=red',
        'entityRef=',
      ]) {
        const res = await api().get(`/api/backup/backups?${query}`).set(auth(ADMIN));
        expect(res.status, query).toBe(400);
        expect(res.body.error.name).toBe('InputError');
        expect(res.body.error.message).toMatch(/^invalid request: /);
      }
    });

    it("gives one backup's details", async () => {
      const res = await api().get('/api/backup/backups/main/shop-1').set(auth(ADMIN));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'shop-1', namespace: 'shop', actor: 'alice' });
      expect(res.body.kinds).toEqual(
        expect.arrayContaining([
          { kind: 'ConfigMap', count: 1 },
          { kind: 'Deployment', count: 1 },
        ]),
      );
      expect(res.body.restores).toEqual([
        expect.objectContaining({ targetNamespace: 'shop-copy', outcome: expect.any(String) }),
      ]);
      const bySnapshot = await api()
        .get(`/api/backup/backups/main/${res.body.snapshot.slice(0, 12)}`)
        .set(auth(ADMIN));
      expect(bySnapshot.body.name).toBe('shop-1');
      expect((await api().get('/api/backup/backups/main/nope').set(auth(ADMIN))).status).toBe(404);
      expect((await api().get('/api/backup/backups/main/pay-1').set(auth(READER))).status).toBe(
        403,
      );
      expect((await api().get('/api/backup/backups/main/shop-1').set(auth(READER))).status).toBe(
        200,
      );
    });
  });

  describe('restores', () => {
    it('lists and details restore records with per-item results', async () => {
      const list = await api().get('/api/backup/restores').set(auth(ADMIN));
      expect(list.status).toBe(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({
          source: expect.objectContaining({ backup: 'shop-1' }),
          targetNamespace: 'shop-copy',
        }),
      ]);
      const name = list.body.items[0].name as string;
      const details = await api()
        .get(`/api/backup/restores/main/${encodeURIComponent(name)}`)
        .set(auth(ADMIN));
      expect(details.status).toBe(200);
      expect(details.body.items).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'ConfigMap', name: 'settings', outcome: 'created' }),
        ]),
      );
      expect(
        (await api().get('/api/backup/restores?outcome=failure').set(auth(ADMIN))).body.total,
      ).toBe(0);
      expect((await api().get('/api/backup/restores/main/nope').set(auth(ADMIN))).status).toBe(404);
      expect(
        (
          await api()
            .get(`/api/backup/restores/main/${encodeURIComponent(name)}`)
            .set(auth(READER))
        ).status,
      ).toBe(403);
      expect((await api().get('/api/backup/restores?limit=x').set(auth(ADMIN))).status).toBe(400);
    });
  });

  describe('audit trail', () => {
    it('filters by entity, namespace, actor, action and time', async () => {
      const all = await api().get('/api/backup/audit').set(auth(ADMIN));
      expect(all.status).toBe(200);
      expect(all.body.items.map((e: { action: string }) => e.action).sort()).toEqual([
        'backup.create',
        'backup.create',
        'backup.create',
        'restore.create',
      ]);
      const byActor = await api().get('/api/backup/audit?actor=carol').set(auth(ADMIN));
      expect(byActor.body.items).toEqual([
        expect.objectContaining({
          actor: 'carol',
          action: 'backup.create',
          namespace: 'pay',
          outcome: 'success',
        }),
      ]);
      const byAction = await api().get('/api/backup/audit?action=restore.create').set(auth(ADMIN));
      expect(byAction.body.items).toEqual([
        expect.objectContaining({ namespace: 'shop-copy', target: 'shop-1' }),
      ]);
      const ofEntity = await api()
        .get('/api/backup/audit?entityRef=component:default/shop')
        .set(auth(ADMIN));
      expect(ofEntity.body.items.map((e: { actor: string }) => e.actor)).toEqual(['bob', 'alice']);
      expect((await api().get('/api/backup/audit?namespace=pay').set(auth(ADMIN))).body.total).toBe(
        1,
      );
      expect(
        (await api().get('/api/backup/audit?until=2000-01-01T00:00:00Z').set(auth(ADMIN))).body
          .total,
      ).toBe(0);
    });

    it('narrows a restricted user to its entities, 403 for others, 400 for bad input', async () => {
      const res = await api().get('/api/backup/audit').set(auth(READER));
      expect(res.body.items.map((e: { namespace: string }) => e.namespace)).toEqual([
        'shop',
        'shop',
      ]);
      expect((await api().get('/api/backup/audit').set(auth(OUTSIDER))).status).toBe(403);
      expect((await api().get('/api/backup/audit?since=soon').set(auth(ADMIN))).status).toBe(400);
    });
  });

  it('lists repositories with their ingest and audit chain state (no credentials in the location)', async () => {
    const res = await api().get('/api/backup/repositories').set(auth(ADMIN));
    expect(res.status).toBe(200);
    expect(res.body).toEqual([
      expect.objectContaining({
        name: 'main',
        location: fx.repoDir,
        backups: 3,
        restores: 1,
        auditEntries: 4,
        auditChain: expect.objectContaining({ ok: true, entries: 4 }),
      }),
    ]);
    expect((await api().get('/api/backup/repositories').set(auth(OUTSIDER))).status).toBe(403);
  });
});
