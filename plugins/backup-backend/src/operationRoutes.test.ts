/**
 * POST /backups, /verifications, /restores end to end: the plugin runs @kubectl-backup/k8s
 * against kube-sim with the configured cluster credentials, the results land in the repository
 * (with the Backstage user as actor in the audit log) and in the API; auditor events; 400, 401,
 * 403 and 404.
 */
import { type TestBackend } from '@backstage/backend-test-utils';
import { readAuditLog } from '@kubectl-backup/engine';
import type { EntityStatus, Operation } from '@kubectl-backup/plugin-backup-common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  auth,
  component,
  OUTSIDER,
  READER,
  recordingAuditor,
  startBackend,
  type RecordedAuditEvent,
} from './test-support/backend.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';
import { testDatabases } from './test-support/databases.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';
const CLUSTER = 'kubectl-backup.io/cluster';

describe.each(databases.eachSupportedId())('REST API: operations (%s)', (databaseId) => {
  let fx: Fixture;
  let backend: TestBackend;
  const events: RecordedAuditEvent[] = [];
  const api = () => request(backend.server);

  /** Polls the operation until it has ended. */
  async function finished(op: Operation, user = ADMIN): Promise<Operation> {
    for (let i = 0; i < 600; i++) {
      const res = await api().get(`/api/backup/operations/${op.id}`).set(auth(user));
      expect(res.status).toBe(200);
      if (res.body.status === 'succeeded' || res.body.status === 'failed')
        return res.body as Operation;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`operation ${op.id} did not end`);
  }

  async function post(path: string, body: unknown, user = ADMIN) {
    return api()
      .post(`/api/backup${path}`)
      .set(auth(user))
      .send(body as object);
  }

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.seedNamespace('pay');
    backend = await startBackend({
      knex: await databases.init(databaseId),
      config: {
        backup: {
          repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }],
          clusters: [{ name: 'sim', kubeconfig: fx.sim.kubeconfigPath, context: 'admin' }],
        },
      },
      entities: [
        component('shop', { [NS]: 'shop', [CLUSTER]: 'sim' }),
        component('pay', { [NS]: 'pay' }),
        component('ghost', { [NS]: 'ghost' }),
        component('elsewhere', { [NS]: 'shop', [CLUSTER]: 'other' }),
        component('plain'),
      ],
      extraFeatures: [recordingAuditor(events)],
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await fx?.dispose();
  });

  let backupName = '';

  it('backs up an entity: the backup is in the repository, with the Backstage user as actor, and in the API', async () => {
    const res = await post('/backups', { entityRef: 'component:default/shop' });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      kind: 'backup',
      status: 'pending',
      entityRef: 'component:default/shop',
      repository: 'main',
      cluster: 'sim',
      namespace: 'shop',
      actor: `backstage:${ADMIN}`,
    });
    const op = await finished(res.body);
    expect(op.status).toBe('succeeded');
    expect(op.progress?.phase).toBe('done');
    backupName = op.result!.backup as string;
    expect(backupName).toMatch(/^shop-/);

    const list = await api()
      .get('/api/backup/backups?entityRef=component:default/shop')
      .set(auth(ADMIN));
    expect(list.body.items).toEqual([
      expect.objectContaining({
        name: backupName,
        actor: `backstage:${ADMIN}`,
        cluster: 'sim',
        snapshot: op.result!.snapshot,
      }),
    ]);
    const entries = await fx.withRepo((repo) => readAuditLog(repo));
    expect(entries.at(-1)).toMatchObject({
      action: 'backup.create',
      actor: `backstage:${ADMIN}`,
      target: backupName,
      outcome: 'success',
      namespace: 'shop',
      cluster: 'sim',
    });
    expect(
      events.find((e) => e.eventId === 'backup-create' && e.meta?.operationId === op.id),
    ).toMatchObject({ status: 'succeeded', severityLevel: 'medium' });
  });

  it('verifies a backup with a restore test', async () => {
    const res = await post('/verifications', {
      entityRef: 'component:default/shop',
      backup: backupName,
      restoreTest: true,
    });
    expect(res.status).toBe(202);
    const op = await finished(res.body);
    expect(op).toMatchObject({
      status: 'succeeded',
      result: { backup: backupName, result: 'passed' },
    });
    expect((op.result!.checks as Array<{ name: string }>).map((c) => c.name)).toEqual(
      expect.arrayContaining(['integrity', 'restore', 'objects']),
    );
    const details = await api().get(`/api/backup/backups/main/${backupName}`).set(auth(ADMIN));
    expect(details.body.verification).toMatchObject({ result: 'passed' });
    const status = (
      await api().get('/api/backup/entities/component/default/shop/status').set(auth(ADMIN))
    ).body as EntityStatus;
    expect(status.verification).toMatchObject({ result: 'passed' });
  });

  it('restores after a dry run of the same restore, and only then', async () => {
    const target = {
      entityRef: 'component:default/shop',
      backup: backupName,
      targetNamespace: 'shop-restored',
    };
    const without = await post('/restores', { ...target, dryRun: false });
    expect(without.status).toBe(400);
    expect(without.body.error.message).toMatch(/dry run first/);

    const dry = await finished((await post('/restores', { ...target, dryRun: true })).body);
    expect(dry.status).toBe('succeeded');
    expect(dry.result).toMatchObject({
      dryRun: true,
      targetNamespace: 'shop-restored',
      policy: 'skip',
    });
    expect((dry.result!.counts as Record<string, number>).create).toBeGreaterThan(0);
    expect(dry.result!.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'ConfigMap', name: 'settings', action: 'create' }),
      ]),
    );
    expect((await fx.sim.kubectl(['get', 'namespace', 'shop-restored'])).code).not.toBe(0);

    const otherPolicy = await post('/restores', {
      ...target,
      policy: 'update',
      dryRun: false,
      dryRunId: dry.id,
    });
    expect(otherPolicy.status).toBe(400);

    const real = await finished(
      (await post('/restores', { ...target, dryRun: false, dryRunId: dry.id })).body,
    );
    expect(real).toMatchObject({
      status: 'succeeded',
      result: { dryRun: false, outcome: 'success' },
    });
    const cm = await fx.sim.kubectl([
      'get',
      'configmap',
      'settings',
      '-n',
      'shop-restored',
      '-o',
      'jsonpath={.data.color}',
    ]);
    expect(cm.stdout).toBe('blue');
    const restores = await api()
      .get('/api/backup/restores?namespace=shop-restored')
      .set(auth(ADMIN));
    expect(restores.body.items).toEqual([
      expect.objectContaining({
        name: real.result!.record,
        actor: `backstage:${ADMIN}`,
        outcome: 'success',
      }),
    ]);
    // The refused restore without a dry run is an input error (no event); the wrong dry run is audited as failed.
    expect(events.filter((e) => e.eventId === 'restore-create').map((e) => e.status)).toEqual([
      'succeeded',
      'failed',
      'succeeded',
    ]);
  });

  it('records a failed backup (namespace missing): the operation says why, the status shows the failure', async () => {
    const op = await finished(
      (await post('/backups', { entityRef: 'component:default/ghost' })).body,
    );
    expect(op.status).toBe('failed');
    expect(op.error).toMatch(/ghost/);
    const status = (
      await api().get('/api/backup/entities/component/default/ghost/status').set(auth(ADMIN))
    ).body as EntityStatus;
    expect(status).toMatchObject({
      configured: true,
      backups: 0,
      rpo: { state: 'none' },
      lastFailure: { actor: `backstage:${ADMIN}`, repository: 'main' },
    });
    expect(events.find((e) => e.meta?.operationId === op.id)).toMatchObject({
      eventId: 'backup-create',
      status: 'failed',
    });
  });

  it('rejects bad input (400), unknown records (404), no credentials (401) and denied permissions (403)', async () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['/backups', {}, /entityRef/],
      ['/backups', { entityRef: 'component:default/shop', name: 'Bad Name' }, /name/],
      ['/backups', { entityRef: 'component:default/shop', extra: 1 }, /extra|unrecognized/i],
      ['/backups', { entityRef: 'component:default/plain' }, /not configured/],
      ['/backups', { entityRef: 'component:default/elsewhere' }, /cluster "other"/],
      [
        '/backups',
        { entityRef: 'component:default/shop', repository: 'nope' },
        /no repository named "nope"/,
      ],
      ['/verifications', { entityRef: 'component:default/shop' }, /backup/],
      [
        '/verifications',
        { entityRef: 'component:default/shop', backup: 'x', restoreTest: 'yes' },
        /restoreTest/,
      ],
      ['/restores', { entityRef: 'component:default/shop', backup: 'x' }, /dryRun/],
      [
        '/restores',
        {
          entityRef: 'component:default/shop',
          backup: 'x',
          dryRun: true,
          targetNamespace: 'Not_OK',
        },
        /targetNamespace/,
      ],
      [
        '/restores',
        { entityRef: 'component:default/shop', backup: 'x', dryRun: true, policy: 'merge' },
        /policy/,
      ],
    ];
    for (const [path, body, message] of bad) {
      const res = await post(path, body);
      expect([res.status, res.body.error?.message], JSON.stringify(body)).toEqual([
        expect.any(Number),
        expect.stringMatching(message),
      ]);
      expect(
        res.status === 400 || (res.status === 404 && /repository/.test(String(message))),
        `${path} ${JSON.stringify(body)} → ${res.status}`,
      ).toBe(true);
    }
    expect(
      (await post('/verifications', { entityRef: 'component:default/shop', backup: 'nope' }))
        .status,
    ).toBe(404);
    expect((await post('/backups', { entityRef: 'component:default/nope' })).status).toBe(404);
    expect(
      (
        await api()
          .get('/api/backup/operations/7b0a4b5e-0000-4000-8000-000000000000')
          .set(auth(ADMIN))
      ).status,
    ).toBe(404);
    expect((await api().get('/api/backup/operations/not-a-uuid').set(auth(ADMIN))).status).toBe(
      400,
    );

    expect(
      (await api().post('/api/backup/backups').send({ entityRef: 'component:default/shop' }))
        .status,
    ).toBe(401);
    expect((await post('/backups', { entityRef: 'component:default/shop' }, OUTSIDER)).status).toBe(
      403,
    );
    expect((await post('/backups', { entityRef: 'component:default/pay' }, READER)).status).toBe(
      403,
    );
    // A backup of another entity's namespace cannot be verified or restored through this one.
    const payBackup = await finished(
      (await post('/backups', { entityRef: 'component:default/pay' })).body,
    );
    expect(payBackup.status).toBe('succeeded');
    expect(
      (
        await post('/verifications', {
          entityRef: 'component:default/shop',
          backup: payBackup.result!.backup,
        })
      ).status,
    ).toBe(403);
    // READER may restore shop, but not into pay's namespace.
    expect(
      (
        await post(
          '/restores',
          {
            entityRef: 'component:default/shop',
            backup: backupName,
            targetNamespace: 'pay',
            dryRun: true,
          },
          READER,
        )
      ).status,
    ).toBe(403);
    const mine = await post(
      '/restores',
      { entityRef: 'component:default/shop', backup: backupName, dryRun: true },
      READER,
    );
    expect(mine.status).toBe(202);
    await finished(mine.body, READER);
    expect(
      (await api().get(`/api/backup/operations/${payBackup.id}`).set(auth(READER))).status,
    ).toBe(403);
    expect(events.filter((e) => e.status === 'initiated')).toEqual([]);
  });
});
