import { randomBytes } from 'node:crypto';
import { readAuditLog } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { setIntegrationModules } from './integration.js';
import { listBackups } from './list.js';
import { applyFixture, memoryRepo, startHarness, type Harness } from './test-support/sim.js';
import { verifyBackup } from './verify.js';

describe('verifyBackup', () => {
  let h: Harness;
  beforeAll(async () => {
    setIntegrationModules({});
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('passes a good backup with a restore test (objects and volume checksums), removes the scratch namespace, records the result', async () => {
    await applyFixture(h, 'mysql-replicated', 'vdb');
    const w = await h.kubectl(['exec', '-i', '-n', 'vdb', 'mysql-0', '-c', 'mysql', '--', 'sh', '-c', 'cat > /var/lib/mysql/rows.txt'], 'row 1\nrow 2\n');
    expect(w.code).toBe(0);
    const repo = await memoryRepo();
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'vdb', name: 'vdb-1', volumes: 'fs' });
    const r = await verifyBackup(repo, h.kubeConfig(), { backup: 'vdb-1', readData: true, restoreTest: true, waitTimeoutMs: 90_000 });
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.result).toBe('passed');
    expect(r.checks.map((c) => c.name)).toEqual(['integrity', 'restore', 'readiness', 'objects', 'volumes']);
    expect(await h.client().getOptional({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }, undefined, r.scratchNamespace!)).toBeUndefined();
    expect((await listBackups(repo))[0]!.verified).toMatchObject({ result: 'passed' });
    expect((await readAuditLog(repo)).at(-1)).toMatchObject({ action: 'backup.verify', target: 'vdb-1', outcome: 'success' });
  });

  it('refuses a scratch namespace that exists already (it would be deleted afterwards)', async () => {
    await h.kubectl(['create', 'namespace', 'keepme']);
    await h.kubectl(['create', 'configmap', 'precious', '-n', 'keepme', '--from-literal=k=v']);
    const repo = await memoryRepo();
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'keepme', name: 'keep-1', volumes: 'none' });
    await expect(verifyBackup(repo, h.kubeConfig(), { backup: 'keep-1', restoreTest: true, scratchNamespace: 'keepme' })).rejects.toMatchObject({ code: 'EEXISTS' });
    const cm = await h.client().getOptional({ group: '', version: 'v1', resource: 'configmaps', namespaced: true }, 'keepme', 'precious');
    expect(cm?.metadata.name).toBe('precious');
  });

  it('fails a damaged backup with the reason', async () => {
    await h.kubectl(['create', 'namespace', 'small']);
    await h.kubectl(['create', 'configmap', 'c', '-n', 'small', '--from-literal=k=v']);
    const repo = await memoryRepo();
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'small', name: 'small-1', volumes: 'none' });
    for await (const o of repo.storage.list('data/')) await repo.storage.put(o.key, randomBytes(o.size));
    const r = await verifyBackup(repo, undefined, { backup: 'small-1', readData: true });
    expect(r.result).toBe('failed');
    const integrity = r.checks.find((c) => c.name === 'integrity')!;
    expect(integrity.ok).toBe(false);
    expect(integrity.problems!.join('\n')).toMatch(/integrity|authentic/i);
    expect((await listBackups(repo))[0]!.verified).toMatchObject({ result: 'failed' });
  });
});
