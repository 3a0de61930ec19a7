/**
 * The read caches through a real backend (backup.cache.ttl): a repeated entity status or list
 * page within the ttl makes no SQL query, an ingest that brings a new backup clears the caches at
 * once, and ttl 0 turns them off. SQL queries are counted with knex's 'query' event.
 */
import type { BackendFeature, SchedulerService } from '@backstage/backend-plugin-api';
import { mockServices, type TestBackend } from '@backstage/backend-test-utils';
import type { BackupSummary, EntityStatus, Page } from '@kubectl-backup/plugin-backup-common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INGEST_TASK_ID } from './plugin.js';
import { ADMIN, auth, component, startBackend } from './test-support/backend.js';
import { testDatabases } from './test-support/databases.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';
const STATUS = '/api/backup/entities/component/default/shop/status';
const LIST = '/api/backup/backups?entityRef=component:default/shop&limit=10';

describe.each(databases.eachSupportedId())('read caches (%s)', (databaseId) => {
  let fx: Fixture;
  const started: TestBackend[] = [];
  let queries = 0;

  /** A backend with `ttl`; its ingest runs when triggered. */
  async function backendWith(ttl: unknown) {
    const scheduler = mockServices.scheduler() as SchedulerService & {
      factory(o: { skipTaskRunOnStartup: boolean }): BackendFeature;
    };
    const knex = await databases.init(databaseId);
    knex.on('query', () => queries++);
    const backend = await startBackend({
      knex,
      config: {
        backup: {
          repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }],
          cache: { ttl },
        },
      },
      entities: [component('shop', { [NS]: 'shop' })],
      extraFeatures: [scheduler.factory({ skipTaskRunOnStartup: true })],
    });
    started.push(backend);
    await scheduler.triggerTask(INGEST_TASK_ID);
    /** The answer, and the SQL queries it took. */
    const get = async <T>(path: string) => {
      const before = queries;
      const res = await request(backend.server).get(path).set(auth(ADMIN));
      expect(res.status).toBe(200);
      return { body: res.body as T, queries: queries - before };
    };
    return {
      ingest: () => scheduler.triggerTask(INGEST_TASK_ID),
      status: () => get<EntityStatus>(STATUS),
      list: () => get<Page<BackupSummary>>(LIST),
    };
  }

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.backup('shop', 'shop-1', 'alice');
  });

  afterAll(async () => {
    for (const b of started) await b.stop();
    await fx?.dispose();
  });

  it('answers a second status within the ttl without SQL; an ingest clears it', async () => {
    const api = await backendWith({ hours: 1 });
    const first = await api.status();
    expect(first.body).toMatchObject({ backups: 1, lastBackup: { name: 'shop-1' } });
    expect(first.queries).toBeGreaterThan(0);
    const second = await api.status();
    expect(second.queries).toBe(0);
    expect(second.body).toEqual(first.body);

    await fx.backup('shop', 'shop-2', 'bob');
    await api.ingest();
    const after = await api.status();
    expect(after.body).toMatchObject({ backups: 2, lastBackup: { name: 'shop-2', actor: 'bob' } });
    expect(after.queries).toBeGreaterThan(0);
  });

  it('answers a second list page within the ttl without SQL; an ingest clears it', async () => {
    const api = await backendWith('1h');
    const first = await api.list();
    expect(first.queries).toBeGreaterThan(0);
    const second = await api.list();
    expect(second.queries).toBe(0);
    expect(second.body).toEqual(first.body);

    await fx.backup('shop', `shop-${first.body.total + 1}`, 'carol');
    await api.ingest();
    const after = await api.list();
    expect(after.body.total).toBe(first.body.total + 1);
    expect(after.body.items[0]).toMatchObject({ actor: 'carol' });
  });

  it('queries every time with ttl 0', async () => {
    const api = await backendWith(0);
    expect((await api.status()).queries).toBeGreaterThan(0);
    expect((await api.status()).queries).toBeGreaterThan(0);
    expect((await api.list()).queries).toBeGreaterThan(0);
    expect((await api.list()).queries).toBeGreaterThan(0);
  });
});
