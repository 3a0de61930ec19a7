/** The ingest of a repository on S3 (s3rver), written by @kubectl-backup/k8s against kube-sim. */
import { mockServices } from '@backstage/backend-test-utils';
import { openStorage, Repository, type Storage } from '@kubectl-backup/engine';
import { startS3rver, type S3rverHandle } from '@kubectl-backup/engine/testing';
import { backupNamespace, loadKubeConfig } from '@kubectl-backup/k8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestStore } from '../../database/IngestStore.js';
import { applyDatabaseMigrations } from '../../database/migrate.js';
import { QueryStore } from '../../database/QueryStore.js';
import { testDatabases } from '../../test-support/databases.js';
import { PASSWORD, startFixture, type Fixture } from '../../test-support/repository.js';
import { RepositoryPool } from '../Repositories/RepositoryPool.js';
import { createIngestService } from './createIngestService.js';

const databases = testDatabases();

describe('ingest from S3', () => {
  let fx: Fixture;
  let s3: S3rverHandle;

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    s3 = await startS3rver();
  });

  afterAll(async () => {
    await s3?.stop();
    await fx?.dispose();
  });

  it('reads backups and the audit log through the configured S3 credentials', async () => {
    const credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
    const url = s3.url('portal');
    const storage: Storage = openStorage(url, { credentials });
    const repo = await Repository.init(storage, PASSWORD, { scrypt: { N: 1024, r: 8, p: 1 } });
    const kc = loadKubeConfig({ kubeconfig: fx.sim.kubeconfigPath, context: 'admin' });
    const made = await backupNamespace(repo, kc, {
      namespace: 'shop',
      name: 'shop-s3',
      volumes: 'none',
      actor: 'alice',
    });
    await repo.close();

    const knex = await databases.init('SQLITE_3');
    await applyDatabaseMigrations(knex);
    const ingest = createIngestService({
      repositories: new RepositoryPool([{ name: 's3', url, password: PASSWORD, credentials }]),
      store: new IngestStore(knex),
      logger: mockServices.logger.mock(),
    });
    const result = await ingest.ingestRepository('s3');
    expect(result).toMatchObject({ backupsAdded: 1, auditAdded: 1, auditChainOk: true });
    expect(result.error).toBeUndefined();
    const queries = new QueryStore(knex);
    const details = await queries.getBackup('s3', 'shop-s3');
    expect(details).toMatchObject({
      snapshot: made.snapshot.id,
      actor: 'alice',
      resources: made.manifest.resources.total,
    });
    expect(details!.kinds.find((k) => k.kind === 'ConfigMap')).toEqual({
      kind: 'ConfigMap',
      count: 1,
    });
    const [state] = await queries.repositoryStates(new Map([['s3', 'shown']]));
    expect(state).toMatchObject({ backups: 1, auditEntries: 1, auditChain: { ok: true } });
    expect(state!.lastError).toBeUndefined();
  });

  it('reports wrong S3 credentials as the repository error', async () => {
    const knex = await databases.init('SQLITE_3');
    await applyDatabaseMigrations(knex);
    const ingest = createIngestService({
      repositories: new RepositoryPool([
        {
          name: 's3',
          url: s3.url('portal'),
          password: PASSWORD,
          credentials: { accessKeyId: 'WRONG', secretAccessKey: 'x' },
        },
      ]),
      store: new IngestStore(knex),
      logger: mockServices.logger.mock(),
    });
    const result = await ingest.ingestRepository('s3');
    expect(result.error).toBeTruthy();
    expect(result.error).toMatch(/refused.*HTTP 403.*check the credentials/);
    expect(
      await new QueryStore(knex).listBackups({}, 'time', 'desc', { offset: 0, limit: 5 }),
    ).toMatchObject({ total: 0 });
  });
});
