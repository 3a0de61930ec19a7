/**
 * Volume data round trips against kube-sim with the real client-node and the engine (memory
 * repository): fs path and CSI snapshot path, restore into new PVCs (same and another
 * namespace, a WaitForFirstConsumer class), read back through exec.
 */
import { CustomObjectsApi, StorageV1Api } from '@kubernetes/client-node';
import { MemoryStorage, Repository, backup, restoreItemStream } from '@kubectl-backup/engine';
import { CSI_DRIVER } from '@kubectl-backup/kube-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNamespace, createPvc, podNames, readBack, sh, startPod, startVolumeSim, waitFor, writeTestData, type VolumeSim, type WrittenData } from '../test-support/volumes.js';
import { volumeItemName } from '../layout.js';
import { prepareVolumeBackups, type VolumeStream } from './backup.js';
import { compareManifests, readVolumeManifest, tarManifest } from './manifest.js';
import { MOVER_PREFIX } from './mover.js';
import { restoreVolumeData } from './restore.js';
import { CLONE_PREFIX } from './snapshots.js';

const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

async function newRepo(): Promise<Repository> {
  return Repository.init(new MemoryStorage(), 'test-password', { scrypt: TEST_SCRYPT });
}

/** Calls `onFirst` when the stream's first chunk arrives (to look at the cluster meanwhile). */
function observe(s: VolumeStream, onFirst: () => Promise<void>): VolumeStream {
  return {
    ...s,
    stream: (async function* () {
      let first = true;
      for await (const chunk of s.stream) {
        if (first) {
          first = false;
          await onFirst();
        }
        yield chunk;
      }
    })(),
  };
}

async function snapshotNames(t: VolumeSim, namespace: string): Promise<string[]> {
  const api = t.kc.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace, plural: 'volumesnapshots' })) as {
    items: Array<{ metadata: { name: string } }>;
  };
  return list.items.map((i) => i.metadata.name);
}

async function pvcNames(t: VolumeSim, namespace: string): Promise<string[]> {
  return (await t.core.listNamespacedPersistentVolumeClaim({ namespace })).items.map((p) => p.metadata?.name ?? '');
}

describe('volume data round trip', () => {
  let t: VolumeSim;
  beforeAll(async () => {
    t = await startVolumeSim();
    await t.kc.makeApiClient(StorageV1Api).createStorageClass({
      body: { metadata: { name: 'late' }, provisioner: CSI_DRIVER, volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' },
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('fs path: mover tar → engine → restore into new PVCs (same and another namespace) → byte-identical', async () => {
    const ns = 'shop';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'data');
    await startPod(t.core, ns, 'writer', { claims: ['data'] });
    const written = await writeTestData(t.kc, ns, 'writer', 1);
    const pvc = await t.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });

    const warnings: string[] = [];
    const prepared = await prepareVolumeBackups(t.kc, ns, [pvc], { mode: 'fs', onWarning: (m) => warnings.push(m) });
    expect(prepared.streams.map((s) => [s.name, s.mediaType])).toEqual([['volumes/data.tar', 'application/x-tar']]);
    expect(prepared.consistentAfterPrepare).toBe(false);
    // lazy: nothing runs before the engine reads
    expect(await podNames(t.core, ns, MOVER_PREFIX)).toEqual([]);
    let moverSeen: string[] = [];
    const streams = prepared.streams.map((s) =>
      observe(s, async () => {
        moverSeen = await podNames(t.core, ns, MOVER_PREFIX);
      }),
    );
    const repo = await newRepo();
    const snap = await backup(repo, { streams });
    await prepared.cleanup();
    expect(moverSeen).toHaveLength(1);
    const mover = await t.core.readNamespacedPod({ name: moverSeen[0] ?? '', namespace: ns }).catch(() => undefined);
    expect(mover).toBeUndefined();
    expect(warnings).toEqual([]);
    const [record] = prepared.records();
    expect(record).toMatchObject({ pvc: 'data', method: 'fs', item: 'volumes/data.tar', storageClass: 'standard', driver: CSI_DRIVER, capacity: '1Gi' });
    expect(record?.error).toBeUndefined();
    expect(record?.bytes).toBeGreaterThan(3 * 1024 * 1024);
    expect(snap.stats.bytesTotal).toBe(record?.bytes);

    // the item's manifest is the live volume's
    const fromBackup = await tarManifest(await restoreItemStream(repo, snap, volumeItemName('data')));
    const live = await readVolumeManifest(t.kc, ns, 'data');
    expect(compareManifests(live, fromBackup)).toEqual([]);
    expect(fromBackup.entries.find((e) => e.path === 'bin/hello-link')).toMatchObject({ type: 'symlink', linkname: '../docs/hello.txt' });
    expect(fromBackup.entries.find((e) => e.path === 'empty.txt')).toMatchObject({ type: 'file', size: 0 });
    expect(fromBackup.entries.find((e) => e.path === 'bin/run.sh')?.mode).toBe(0o755);

    // restore into a new PVC of the same namespace
    await createPvc(t.core, ns, 'data-copy');
    const r1 = await restoreVolumeData(t.kc, ns, 'data-copy', await restoreItemStream(repo, snap, 'volumes/data.tar'), {});
    expect(r1).toMatchObject({ pvc: 'data-copy', ok: true, bytes: record?.bytes });
    expect(await podNames(t.core, ns, MOVER_PREFIX)).toEqual([]);
    await startPod(t.core, ns, 'reader', { claims: ['data-copy'] });
    expect(await readBack(t.kc, ns, 'reader', written)).toEqual([]);
    expect(compareManifests(fromBackup, await readVolumeManifest(t.kc, ns, 'data-copy'))).toEqual([]);

    // and into another namespace, through a WaitForFirstConsumer class (the mover binds it)
    const other = 'shop-restored';
    await createNamespace(t.core, other);
    await createPvc(t.core, other, 'data', { storageClassName: 'late', wait: false });
    expect((await t.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: other })).status?.phase).toBe('Pending');
    const r2 = await restoreVolumeData(t.kc, other, 'data', await restoreItemStream(repo, snap, 'volumes/data.tar'), {});
    expect(r2.ok).toBe(true);
    expect((await t.core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: other })).status?.phase).toBe('Bound');
    await startPod(t.core, other, 'reader', { claims: ['data'] });
    expect(await readBack(t.kc, other, 'reader', written)).toEqual([]);
    expect(await podNames(t.core, other, MOVER_PREFIX)).toEqual([]);
  });

  it('CSI path: VolumeSnapshot taken at prepare, clone PVC read, both deleted; the data is the snapshot’s', async () => {
    const ns = 'db';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'pgdata');
    await startPod(t.core, ns, 'postgres', { claims: ['pgdata'] });
    const written = await writeTestData(t.kc, ns, 'postgres', 2, 512 * 1024);
    const pvc = await t.core.readNamespacedPersistentVolumeClaim({ name: 'pgdata', namespace: ns });

    const prepared = await prepareVolumeBackups(t.kc, ns, [pvc], { mode: 'snapshot' });
    expect(prepared.consistentAfterPrepare).toBe(true);
    const [before] = prepared.records();
    expect(before).toMatchObject({ pvc: 'pgdata', method: 'snapshot', snapshotClass: 'csi-hostpath-snapclass', driver: CSI_DRIVER });
    expect(await snapshotNames(t, ns)).toEqual([before?.snapshotName]);

    // changes after the snapshot are not in the backup
    expect((await sh(t.kc, ns, 'postgres', 'echo later > /data/after.txt && echo changed > /data/docs/hello.txt')).exitCode).toBe(0);

    let during: { pvcs: string[]; movers: string[] } = { pvcs: [], movers: [] };
    const streams = prepared.streams.map((s) =>
      observe(s, async () => {
        during = { pvcs: await pvcNames(t, ns), movers: await podNames(t.core, ns, MOVER_PREFIX) };
      }),
    );
    const repo = await newRepo();
    const snap = await backup(repo, { streams });
    await prepared.cleanup();

    const clones = during.pvcs.filter((n) => n.startsWith(`${CLONE_PREFIX}pgdata-`));
    expect(clones).toHaveLength(1);
    expect(during.movers).toHaveLength(1);
    const moverPod = await t.core.readNamespacedPod({ name: during.movers[0] ?? '', namespace: ns }).catch(() => undefined);
    expect(moverPod).toBeUndefined();
    // the mover read the clone, not the live PVC
    const [record] = prepared.records();
    expect(record?.error).toBeUndefined();
    expect(record?.bytes).toBeGreaterThan(512 * 1024);

    await waitFor(async () => (await snapshotNames(t, ns)).length === 0, 10_000, 'snapshots deleted');
    await waitFor(async () => !(await pvcNames(t, ns)).some((n) => n.startsWith(CLONE_PREFIX)), 10_000, 'clone deleted');
    expect(await podNames(t.core, ns, MOVER_PREFIX)).toEqual([]);

    const manifest = await tarManifest(await restoreItemStream(repo, snap, 'volumes/pgdata.tar'));
    expect(manifest.entries.map((e) => e.path)).not.toContain('after.txt');

    await createPvc(t.core, ns, 'pgdata-restored');
    const r = await restoreVolumeData(t.kc, ns, 'pgdata-restored', await restoreItemStream(repo, snap, 'volumes/pgdata.tar'));
    expect(r.ok).toBe(true);
    await startPod(t.core, ns, 'check', { claims: ['pgdata-restored'] });
    expect(await readBack(t.kc, ns, 'check', written as WrittenData)).toEqual([]);
    expect((await sh(t.kc, ns, 'check', 'test -e /data/after.txt')).exitCode).not.toBe(0);
  });

  it('restore failures are results: missing PVC, empty data, tar errors', async () => {
    const ns = 'restore-errors';
    await createNamespace(t.core, ns);
    const { Readable } = await import('node:stream');
    const missing = await restoreVolumeData(t.kc, ns, 'nope', Readable.from([Buffer.from('x')]));
    expect(missing).toMatchObject({ pvc: 'nope', ok: false });
    expect(missing.error).toMatch(/does not exist/);
    await createPvc(t.core, ns, 'classless', { storageClassName: 'gone', wait: false });
    const unbindable = await restoreVolumeData(t.kc, ns, 'classless', Readable.from([Buffer.from('x')]));
    expect(unbindable.error).toMatch(/StorageClass gone does not exist/);
    await createPvc(t.core, ns, 'target');
    const empty = await restoreVolumeData(t.kc, ns, 'target', Readable.from([]));
    expect(empty).toMatchObject({ ok: false, bytes: 0 });
    expect(empty.error).toMatch(/no data/);
    const garbage = await restoreVolumeData(t.kc, ns, 'target', Readable.from([Buffer.alloc(1024, 7)]));
    expect(garbage.ok).toBe(false);
    expect(garbage.error).toMatch(/tar exited with code/);
    expect(await podNames(t.core, ns, MOVER_PREFIX)).toEqual([]);
  });
});
