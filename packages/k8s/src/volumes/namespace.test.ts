/**
 * The volume and hook modules through the package's own orchestration (backupNamespace,
 * restoreNamespace) against kube-sim: PVC data and hooks end to end.
 */
import { StorageV1Api } from '@kubernetes/client-node';
import { MemoryStorage, Repository, restoreItemStream } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { backupNamespace } from '../backup.js';
import { HOOK_ANNOTATIONS } from '../hooks.js';
import { restoreNamespace } from '../restore/index.js';
import { createNamespace, createPvc, pseudoRandom, readBack, sh, sha256, startPod, startVolumeSim, waitFor, writeTestData, type VolumeSim } from '../test-support/volumes.js';
import { compareManifests, readVolumeManifest, tarManifest } from './manifest.js';

describe('namespace backup and restore with volume data', () => {
  let t: VolumeSim;
  beforeAll(async () => {
    t = await startVolumeSim();
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('backs up PVC data (snapshot and fs) with hooks, and restores it into another namespace', async () => {
    const ns = 'store';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'db-data');
    await t.kc.makeApiClient(StorageV1Api).createStorageClass({ body: { metadata: { name: 'nfs' }, provisioner: 'nfs.example.com', volumeBindingMode: 'Immediate' } });
    await createPvc(t.core, ns, 'uploads', { storageClassName: 'nfs' });
    await startPod(t.core, ns, 'db', {
      claims: ['db-data', 'uploads'],
      annotations: {
        [HOOK_ANNOTATIONS.pre]: 'echo frozen > /data/hook-state',
        [HOOK_ANNOTATIONS.post]: 'echo thawed > /data/hook-state',
      },
    });
    const written = await writeTestData(t.kc, ns, 'db', 11, 256 * 1024);
    const upload = pseudoRandom(300_000, 12);
    expect((await sh(t.kc, ns, 'db', 'mkdir -p /data-uploads/2026 && cat > /data-uploads/2026/photo.jpg', upload)).exitCode).toBe(0);
    const repo = await Repository.init(new MemoryStorage(), 'pw', { scrypt: { N: 1024, r: 8, p: 1 } });
    const result = await backupNamespace(repo, t.kc, { namespace: ns, name: 'store-1', volumes: 'auto' });
    const volumes = result.manifest.volumes as Array<Record<string, unknown>>;
    expect(volumes.map((v) => [v.pvc, v.method, v.error])).toEqual([
      ['db-data', 'snapshot', undefined],
      ['uploads', 'fs', undefined],
    ]);
    const hooks = result.manifest.hooks as Array<Record<string, unknown>>;
    expect(hooks.map((h) => [h.pod, h.phase, h.ok])).toEqual([
      ['db', 'pre', true],
      ['db', 'post', true],
    ]);
    // the snapshot was cut while the application was frozen
    const item = await tarManifest(await restoreItemStream(repo, result.snapshot, 'volumes/db-data.tar'));
    expect(item.entries.find((e) => e.path === 'hook-state')?.sha256).toBe(sha256('frozen\n'));
    expect((await sh(t.kc, ns, 'db', 'cat /data/hook-state')).stdout.toString()).toBe('thawed\n');

    const target = 'store-copy';
    const restored = await restoreNamespace(repo, t.kc, { backup: 'store-1', targetNamespace: target, wait: false });
    const vols = (restored.record?.volumes ?? []) as Array<Record<string, unknown>>;
    expect(vols.map((v) => [v.pvc, v.outcome])).toEqual([
      ['db-data', 'restored'],
      ['uploads', 'restored'],
    ]);
    await waitFor(async () => (await t.core.readNamespacedPod({ name: 'db', namespace: target }).catch(() => undefined))?.status?.phase === 'Running', 20_000, 'restored pod');
    expect(await readBack(t.kc, target, 'db', written)).toEqual([]);
    expect(compareManifests(item, await readVolumeManifest(t.kc, target, 'db-data'))).toEqual([]);
    const photo = await sh(t.kc, target, 'db', 'sha256sum /data-uploads/2026/photo.jpg');
    expect(photo.stdout.toString().split(' ')[0]).toBe(sha256(upload));
  });
});
