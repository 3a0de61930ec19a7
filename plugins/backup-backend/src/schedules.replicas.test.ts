/**
 * Two backend instances sharing one PostgreSQL database, each with Backstage's real scheduler
 * and the same fast schedule: every cron slot is backed up exactly once between them.
 */
import { metricsServiceFactory } from '@backstage/backend-defaults/alpha';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import type { TestBackend } from '@backstage/backend-test-utils';
import { readAuditLog } from '@kubectl-backup/engine';
import { listBackups } from '@kubectl-backup/k8s';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { component, startBackend } from './test-support/backend.js';
import { testDatabases } from './test-support/databases.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';
const describePg = databases.supports('POSTGRES_15') ? describe : describe.skip;

describePg('a schedule on two replicas sharing PostgreSQL', () => {
  let fx: Fixture;
  let knexes: Knex[] = [];
  let backends: TestBackend[] = [];

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    const first = await databases.init('POSTGRES_15');
    // The second replica gets its own connection pool to the same database.
    const second = knexFactory({ client: 'pg', connection: first.client.config.connection });
    knexes = [first, second];
    const config = {
      backup: {
        repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }],
        clusters: [{ name: 'sim', kubeconfig: fx.sim.kubeconfigPath, context: 'admin' }],
        ingest: { frequency: { hours: 1 } },
        schedules: [{ name: 'often', namespace: 'shop', cron: '*/2 * * * * *' }],
      },
    };
    for (const knex of knexes) {
      backends.push(
        await startBackend({
          knex,
          config,
          entities: [component('shop', { [NS]: 'shop' })],
          extraFeatures: [schedulerServiceFactory, metricsServiceFactory],
        }),
      );
    }
  });

  afterAll(async () => {
    for (const b of backends) await b.stop();
    await knexes[1]?.destroy();
    await fx?.dispose();
    backends = [];
  });

  it('runs each slot once', async () => {
    const deadline = Date.now() + 60_000;
    let runs: Array<{ slot: string; instance: string; outcome?: string }> = [];
    while (Date.now() < deadline) {
      runs = await knexes[0]!('schedule_runs')
        .where({ schedule_id: 'often' })
        .whereNotNull('finished_at')
        .select('slot', 'instance', 'outcome');
      if (runs.length >= 3) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // Let runs in flight finish before reading the repository.
    for (const b of backends) await b.stop();
    backends = [];
    runs = await knexes[0]!('schedule_runs')
      .where({ schedule_id: 'often' })
      .select('slot', 'instance', 'outcome');
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.every((r) => r.outcome === 'success')).toBe(true);
    expect(new Set(runs.map((r) => r.slot)).size).toBe(runs.length);

    const made = (await fx.withRepo((repo) => listBackups(repo, { namespace: 'shop' }))).filter(
      (b) => b.tags.includes('schedule=often'),
    );
    expect(made.map((b) => b.name).sort()).toEqual(
      runs
        .map(
          (r) =>
            `shop-often-${r.slot
              .replace(/\.\d+Z$/, 'Z')
              .replace(/[-:]/g, '')
              .toLowerCase()}`,
        )
        .sort(),
    );
    const created = (await fx.withRepo((repo) => readAuditLog(repo))).filter(
      (e) => e.action === 'backup.create' && e.actor === 'backstage:schedule/often',
    );
    expect(created.map((e) => e.outcome)).toEqual(runs.map(() => 'success'));
  });
});
