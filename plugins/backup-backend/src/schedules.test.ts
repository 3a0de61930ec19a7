/**
 * Scheduled backups through the scheduler tasks the plugin registers: a run backs up the
 * namespace against kube-sim, a slot runs once, retention keeps only the schedule's newest
 * backups (others untouched), and the API shows the schedules and the entity's next run.
 */
import { mockServices, type TestBackend } from '@backstage/backend-test-utils';
import type { SchedulerService } from '@backstage/backend-plugin-api';
import type { BackendFeature } from '@backstage/backend-plugin-api';
import { readAuditLog } from '@kubectl-backup/engine';
import { listBackups } from '@kubectl-backup/k8s';
import type { EntityStatus, ScheduleSummary } from '@kubectl-backup/plugin-backup-common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, auth, component, READER, startBackend } from './test-support/backend.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';
import { testDatabases } from './test-support/databases.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(databases.eachSupportedId())('scheduled backups (%s)', (databaseId) => {
  let fx: Fixture;
  let backend: TestBackend;
  const scheduler = mockServices.scheduler() as SchedulerService & {
    factory(o: { skipTaskRunOnStartup: boolean }): BackendFeature;
  };
  const api = () => request(backend.server);
  const backupsOf = async (namespace: string) =>
    fx.withRepo((repo) => listBackups(repo, { namespace }));

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.backup('shop', 'shop-by-hand', 'alice');
    backend = await startBackend({
      knex: await databases.init(databaseId),
      config: {
        backup: {
          repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }],
          clusters: [{ name: 'sim', kubeconfig: fx.sim.kubeconfigPath, context: 'admin' }],
          schedules: [
            { entity: 'component:default/shop', cron: '0 3 * * *' },
            {
              name: 'shop-often',
              namespace: 'shop',
              cron: '* * * * * *',
              retention: { keepLast: 2 },
            },
          ],
        },
      },
      entities: [component('shop', { [NS]: 'shop' })],
      extraFeatures: [scheduler.factory({ skipTaskRunOnStartup: true })],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await fx?.dispose();
  });

  it('registers one task per schedule', async () => {
    const ids = (await scheduler.getScheduledTasks()).map((t) => t.id).sort();
    expect(ids).toEqual(['backup-ingest', 'backup-schedule:shop', 'backup-schedule:shop-often']);
  });

  it('backs up the entity once per cron slot', async () => {
    await scheduler.triggerTask('backup-schedule:shop');
    await scheduler.triggerTask('backup-schedule:shop');
    const made = (await backupsOf('shop')).filter((b) => b.tags.includes('schedule=shop'));
    expect(made).toHaveLength(1);
    const slot = new Date();
    slot.setUTCHours(3, 0, 0, 0);
    if (slot.getTime() > Date.now()) slot.setUTCDate(slot.getUTCDate() - 1);
    expect(made[0]).toMatchObject({
      name: `shop-shop-${slot
        .toISOString()
        .replace(/\.\d+Z$/, 'Z')
        .replace(/[-:]/g, '')
        .toLowerCase()}`,
      actor: 'backstage:schedule/shop',
      cluster: 'sim',
    });
    const listed = await api()
      .get('/api/backup/schedules?entityRef=component:default/shop')
      .set(auth(ADMIN));
    expect(listed.status).toBe(200);
    const byName = new Map((listed.body as ScheduleSummary[]).map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['shop', 'shop-often']);
    expect(byName.get('shop')).toMatchObject({
      cron: '0 3 * * *',
      lastRun: {
        slot: slot.toISOString(),
        outcome: 'success',
        backup: made[0]!.name,
        forgotten: 0,
      },
    });
    expect(Date.parse(byName.get('shop')!.nextRun!)).toBe(slot.getTime() + 24 * 3600_000);
  });

  it("applies the retention policy to the schedule's own backups after each run", async () => {
    for (let i = 0; i < 3; i++) {
      await scheduler.triggerTask('backup-schedule:shop-often');
      await sleep(1100); // a new slot every second
    }
    const all = await backupsOf('shop');
    const often = all.filter((b) => b.tags.includes('schedule=shop-often'));
    expect(often).toHaveLength(2);
    expect(all.map((b) => b.name)).toEqual(
      expect.arrayContaining(['shop-by-hand', expect.stringMatching(/^shop-shop-\d/)]),
    );
    const forgets = (await fx.withRepo((repo) => readAuditLog(repo))).filter(
      (e) => e.action === 'backup.forget',
    );
    expect(
      forgets.map((e) => [e.actor, e.outcome, (e.details!.removed as string[]).length]),
    ).toEqual([
      ['backstage:schedule/shop-often', 'success', 0],
      ['backstage:schedule/shop-often', 'success', 0],
      ['backstage:schedule/shop-often', 'success', 1],
    ]);
    // The API shows what the ingest saw after the run: the forgotten backup is gone.
    const listed = await api().get('/api/backup/backups?namespace=shop&limit=10').set(auth(ADMIN));
    expect(listed.body.items.map((b: { name: string }) => b.name).sort()).toEqual(
      all.map((b) => b.name).sort(),
    );
  });

  it('gives the next scheduled run in the entity status', async () => {
    const status = (
      await api().get('/api/backup/entities/component/default/shop/status').set(auth(ADMIN))
    ).body as EntityStatus;
    expect(Date.parse(status.nextScheduledRun!) - Date.now()).toBeLessThanOrEqual(2000);
    expect(Date.parse(status.nextScheduledRun!)).toBeGreaterThan(Date.now() - 1000);
  });

  it('lists every schedule only for callers who may read every entity', async () => {
    expect((await api().get('/api/backup/schedules').set(auth(ADMIN))).body).toHaveLength(2);
    expect((await api().get('/api/backup/schedules').set(auth(READER))).status).toBe(403);
    expect(
      (await api().get('/api/backup/schedules?entityRef=component:default/shop').set(auth(READER)))
        .status,
    ).toBe(200);
    expect((await api().get('/api/backup/schedules')).status).toBe(401);
    expect((await api().get('/api/backup/schedules?entity=x').set(auth(ADMIN))).status).toBe(400);
  });
});
