/**
 * prepareVolumeBackups: method choice (auto/snapshot/fs/none), PVCs that cannot be read,
 * parallelism, abort and cleanup — against kube-sim with the real client-node and the engine.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, StorageV1Api, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { MemoryStorage, Repository, backup, restoreItemStream } from '@kubectl-backup/engine';
import { DEV_NAMESPACE } from '@kubectl-backup/kube-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNamespace, createPvc, podNames, pseudoRandom, sh, startPod, startVolumeSim, waitFor, type VolumeSim } from '../test-support/volumes.js';
import { prepareVolumeBackups, type VolumeStream } from './backup.js';
import { removeLeftovers } from './leftovers.js';
import { MOVER_PREFIX, startMover } from './mover.js';
import { restoreVolumeData } from './restore.js';
import { CLONE_PREFIX, createClonePvc, createVolumeSnapshot } from './snapshots.js';

const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };
const OTHER_DRIVER = 'nfs.example.com';

async function newRepo(): Promise<Repository> {
  return Repository.init(new MemoryStorage(), 'test-password', { scrypt: TEST_SCRYPT });
}

async function readPvcs(t: VolumeSim, namespace: string, names: string[]): Promise<V1PersistentVolumeClaim[]> {
  return Promise.all(names.map((name) => t.core.readNamespacedPersistentVolumeClaim({ name, namespace })));
}

async function managedLeftovers(t: VolumeSim, namespace: string): Promise<string[]> {
  const selector = 'app.kubernetes.io/managed-by=kubectl-backup';
  const pods = await t.core.listNamespacedPod({ namespace, labelSelector: selector });
  const pvcs = await t.core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: selector });
  const snaps = (await t.kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'snapshot.storage.k8s.io',
    version: 'v1',
    namespace,
    plural: 'volumesnapshots',
    labelSelector: selector,
  })) as { items: Array<{ metadata: { name: string } }> };
  return [
    ...pods.items.map((p) => `pod/${p.metadata?.name}`),
    ...pvcs.items.map((p) => `pvc/${p.metadata?.name}`),
    ...snaps.items.map((s) => `volumesnapshot/${s.metadata.name}`),
  ];
}

async function fill(t: VolumeSim, namespace: string, pod: string, path: string, bytes: number, seed: number): Promise<void> {
  const r = await sh(t.kc, namespace, pod, `cat > ${path}`, pseudoRandom(bytes, seed));
  expect(r.exitCode).toBe(0);
}

describe('prepareVolumeBackups', () => {
  let t: VolumeSim;
  beforeAll(async () => {
    t = await startVolumeSim();
    // a class whose driver no VolumeSnapshotClass serves
    await t.kc.makeApiClient(StorageV1Api).createStorageClass({
      body: { metadata: { name: 'nfs' }, provisioner: OTHER_DRIVER, volumeBindingMode: 'Immediate', reclaimPolicy: 'Delete' },
    });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it("'auto' picks snapshot where a VolumeSnapshotClass serves the driver, fs elsewhere; 'snapshot' refuses the rest; 'none' reads nothing", async () => {
    const ns = 'auto';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'fast');
    await createPvc(t.core, ns, 'shared', { storageClassName: 'nfs' });
    await startPod(t.core, ns, 'app', { claims: ['fast', 'shared'] });
    expect((await sh(t.kc, ns, 'app', 'echo fast > /data/f.txt && echo shared > /data-shared/s.txt')).exitCode).toBe(0);
    const pvcs = await readPvcs(t, ns, ['fast', 'shared']);

    const auto = await prepareVolumeBackups(t.kc, ns, pvcs, { mode: 'auto' });
    expect(auto.records().map((r) => [r.pvc, r.method, r.driver, r.storageClass])).toEqual([
      ['fast', 'snapshot', 'hostpath.csi.kubesim.io', 'standard'],
      ['shared', 'fs', OTHER_DRIVER, 'nfs'],
    ]);
    expect(auto.consistentAfterPrepare).toBe(false);
    const snap = await backup(await newRepo(), { streams: auto.streams });
    await auto.cleanup();
    expect(snap.stats.itemsTotal).toBe(2);
    expect(auto.records().every((r) => !r.error && (r.bytes ?? 0) > 0)).toBe(true);
    expect(await managedLeftovers(t, ns)).toEqual([]);

    const warnings: string[] = [];
    const strict = await prepareVolumeBackups(t.kc, ns, pvcs, { mode: 'snapshot', onWarning: (m) => warnings.push(m) });
    expect(strict.streams.map((s) => s.name)).toEqual(['volumes/fast.tar']);
    expect(strict.records()[1]).toMatchObject({ pvc: 'shared', method: 'snapshot' });
    expect(strict.records()[1]?.error).toMatch(/no VolumeSnapshotClass serves the CSI driver nfs.example.com/);
    expect(warnings).toHaveLength(1);
    await strict.cleanup();
    expect(await managedLeftovers(t, ns)).toEqual([]);

    const none = await prepareVolumeBackups(t.kc, ns, pvcs, { mode: 'none' });
    expect(none.streams).toEqual([]);
    expect(none.records()).toEqual([]);
    await none.cleanup();
  });

  it("a failed snapshot: 'auto' falls back to a mover on the live PVC, 'snapshot' records the error; PVCs without status are looked up", async () => {
    const ns = 'snapfail';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'data');
    await startPod(t.core, ns, 'app', { claims: ['data'] });
    await fill(t, ns, 'app', '/data/x.bin', 100_000, 9);
    const [pvc] = await readPvcs(t, ns, ['data']);
    const sanitised = { ...pvc, status: undefined } as V1PersistentVolumeClaim;
    const id = t.sim.failures.add({ verb: 'create', resource: 'volumesnapshots.snapshot.storage.k8s.io', namespace: ns, status: 500, message: 'snapshotter down' });
    try {
      const warnings: string[] = [];
      const auto = await prepareVolumeBackups(t.kc, ns, [sanitised], { mode: 'auto', onWarning: (m) => warnings.push(m) });
      expect(auto.consistentAfterPrepare).toBe(false);
      expect(auto.records()[0]).toMatchObject({ pvc: 'data', method: 'fs', capacity: '1Gi' });
      expect(auto.records()[0]?.note).toMatch(/snapshot failed .*snapshotter down.*read live through a mover pod/);
      expect(warnings).toHaveLength(1);
      await backup(await newRepo(), { streams: auto.streams });
      await auto.cleanup();
      expect(auto.records()[0]?.error).toBeUndefined();
      expect(auto.records()[0]?.bytes).toBeGreaterThan(100_000);

      const strict = await prepareVolumeBackups(t.kc, ns, [pvc as V1PersistentVolumeClaim], { mode: 'snapshot' });
      expect(strict.streams).toEqual([]);
      expect(strict.records()[0]?.error).toMatch(/cannot create a VolumeSnapshot of PVC snapfail\/data: snapshotter down/);
      await strict.cleanup();
      expect(await managedLeftovers(t, ns)).toEqual([]);
    } finally {
      t.sim.failures.remove(id);
    }
  });

  it('a PVC that cannot be read is a warning and a record with an error; the others are backed up', async () => {
    const ns = 'mixed';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'good1');
    await createPvc(t.core, ns, 'pending', { storageClassName: 'does-not-exist', wait: false });
    await createPvc(t.core, ns, 'vanishing');
    await createPvc(t.core, ns, 'good2');
    await startPod(t.core, ns, 'app', { claims: ['good1', 'good2'] });
    await fill(t, ns, 'app', '/data/a.bin', 200_000, 1);
    await fill(t, ns, 'app', '/data-good2/b.bin', 300_000, 2);
    const pvcs = await readPvcs(t, ns, ['good1', 'pending', 'vanishing', 'good2']);

    const warnings: string[] = [];
    const prepared = await prepareVolumeBackups(t.kc, ns, pvcs, { mode: 'fs', onWarning: (m) => warnings.push(m), startTimeoutMs: 1500 });
    expect(prepared.streams.map((s) => s.name)).toEqual(['volumes/good1.tar', 'volumes/vanishing.tar', 'volumes/good2.tar']);
    // deleted between capture and read: its mover never runs
    await t.core.deleteNamespacedPersistentVolumeClaim({ name: 'vanishing', namespace: ns });
    await waitFor(async () => !(await t.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items.some((p) => p.metadata?.name === 'vanishing'), 10_000, 'PVC gone');

    const snap = await backup(await newRepo(), { streams: prepared.streams });
    await prepared.cleanup();
    expect(snap.stats.itemsTotal).toBe(3);
    const records = new Map(prepared.records().map((r) => [r.pvc, r]));
    expect(records.get('good1')?.error).toBeUndefined();
    expect(records.get('good1')?.bytes).toBeGreaterThan(200_000);
    expect(records.get('good2')?.error).toBeUndefined();
    expect(records.get('good2')?.bytes).toBeGreaterThan(300_000);
    expect(records.get('pending')?.error).toMatch(/PVC is Pending/);
    expect(records.get('vanishing')?.error).toMatch(/not read: mover pod .* did not start within 2s .*not found/);
    expect(records.get('vanishing')?.bytes).toBe(0);
    expect(warnings.filter((w) => /pending/.test(w))).toHaveLength(1);
    expect(warnings.filter((w) => /vanishing/.test(w))).toHaveLength(1);
    expect(await managedLeftovers(t, ns)).toEqual([]);
  });

  it('an exec that is refused (Forbidden) is a record error with a hint', async () => {
    const ns = 'forbidden';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'data');
    const id = t.sim.failures.add({ resource: 'pods/exec', namespace: ns, status: 403, message: 'pods/exec is forbidden for you' });
    try {
      const warnings: string[] = [];
      const prepared = await prepareVolumeBackups(t.kc, ns, await readPvcs(t, ns, ['data']), { mode: 'fs', onWarning: (m) => warnings.push(m) });
      await backup(await newRepo(), { streams: prepared.streams });
      await prepared.cleanup();
      expect(prepared.records()[0]?.error).toMatch(/not read: exec refused \(HTTP 403\): pods\/exec is forbidden for you/);
      expect(warnings.join('\n')).toMatch(/volume forbidden\/data not read/);
      expect(warnings.join('\n')).toMatch(/kubectl auth can-i create pods\/exec -n forbidden/);
      expect(await managedLeftovers(t, ns)).toEqual([]);
    } finally {
      t.sim.failures.remove(id);
    }
  });

  it('works for a namespace-limited user (edit role): fs through movers, a warning about snapshot classes', async () => {
    const ns = DEV_NAMESPACE;
    await createPvc(t.core, ns, 'data');
    await startPod(t.core, ns, 'app', { claims: ['data'] });
    await fill(t, ns, 'app', '/data/x.bin', 50_000, 5);
    const dev = new KubeConfig();
    dev.loadFromFile(t.sim.kubeconfigPath);
    dev.setCurrentContext('dev');
    const pvc = await dev.makeApiClient(CoreV1Api).readNamespacedPersistentVolumeClaim({ name: 'data', namespace: ns });
    const warnings: string[] = [];
    const prepared = await prepareVolumeBackups(dev, ns, [pvc], { mode: 'auto', onWarning: (m) => warnings.push(m) });
    const repo = await newRepo();
    const snap = await backup(repo, { streams: prepared.streams });
    await prepared.cleanup();
    expect(prepared.records()[0]).toMatchObject({ pvc: 'data', method: 'fs' });
    expect(prepared.records()[0]?.error).toBeUndefined();
    expect(warnings.join('\n')).toMatch(/VolumeSnapshotClasses/);
    await createPvc(t.core, ns, 'copy');
    const r = await restoreVolumeData(dev, ns, 'copy', await restoreItemStream(repo, snap, 'volumes/data.tar'));
    expect(r.ok).toBe(true);
    expect(await managedLeftovers(t, ns)).toEqual([]);
  });

  it('reads at most `parallel` volumes at once', async () => {
    const ns = 'parallel';
    await createNamespace(t.core, ns);
    const names = ['v1', 'v2', 'v3', 'v4'];
    for (const n of names) await createPvc(t.core, ns, n);
    await startPod(t.core, ns, 'app', { claims: names });
    for (const [i, n] of names.entries()) await fill(t, ns, 'app', i === 0 ? '/data/x.bin' : `/data-${n}/x.bin`, 1_500_000, i + 1);

    for (const parallel of [1, 2]) {
      const prepared = await prepareVolumeBackups(t.kc, ns, await readPvcs(t, ns, names), { mode: 'fs', parallel });
      let active = 0;
      let peak = 0;
      const streams: VolumeStream[] = prepared.streams.map((s) => ({
        ...s,
        stream: (async function* () {
          let started = false;
          try {
            for await (const c of s.stream) {
              if (!started) {
                started = true;
                active++;
                peak = Math.max(peak, active);
              }
              yield c;
            }
          } finally {
            if (started) active--;
          }
        })(),
      }));
      await backup(await newRepo(), { streams });
      await prepared.cleanup();
      expect(peak).toBe(parallel);
      expect(prepared.records().every((r) => !r.error)).toBe(true);
    }
    expect(await managedLeftovers(t, ns)).toEqual([]);
  });

  it('abort: the backup stops, and cleanup leaves no mover pod, clone or snapshot', async () => {
    const ns = 'abort';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'a');
    await createPvc(t.core, ns, 'b', { storageClassName: 'nfs' });
    await startPod(t.core, ns, 'app', { claims: ['a', 'b'] });
    // small volumes: kube-sim's tar has finished writing when we abort (see the report: a client
    // leaving in the middle of `tar c` raises an uncaught EPIPE inside kube-sim)
    await fill(t, ns, 'app', '/data/small.bin', 64 * 1024, 3);
    await fill(t, ns, 'app', '/data-b/small.bin', 64 * 1024, 4);

    const ac = new AbortController();
    const prepared = await prepareVolumeBackups(t.kc, ns, await readPvcs(t, ns, ['a', 'b']), { mode: 'auto', signal: ac.signal, parallel: 1 });
    expect(prepared.records().map((r) => r.method)).toEqual(['snapshot', 'fs']);
    let seen: string[] = [];
    const streamErrors: unknown[] = [];
    const streams = prepared.streams.map((s) => ({
      ...s,
      stream: (async function* () {
        try {
          for await (const c of s.stream) {
            if (!ac.signal.aborted) {
              seen = await managedLeftovers(t, ns);
              await new Promise((r) => setTimeout(r, 200));
              ac.abort();
            }
            yield c;
          }
        } catch (err) {
          streamErrors.push(err);
          throw err;
        }
      })(),
    }));
    const err = await backup(await newRepo(), { streams }, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    await prepared.cleanup();
    // while the first volume was read: its snapshot, clone and mover existed
    expect(seen.filter((s) => s.startsWith('pod/'))).toHaveLength(1);
    expect(seen.filter((s) => s.startsWith(`pvc/${CLONE_PREFIX}a-`))).toHaveLength(1);
    expect(seen.filter((s) => s.startsWith('volumesnapshot/'))).toHaveLength(1);
    expect(await managedLeftovers(t, ns)).toEqual([]);
    expect(await podNames(t.core, ns, MOVER_PREFIX)).toEqual([]);
    // the streams fail with the abort, they do not end quietly
    expect(streamErrors.length).toBeGreaterThanOrEqual(1);
    expect((streamErrors[0] as Error).name).toBe('AbortError');
  });

  it('removeLeftovers finds what a crashed run left (older than the cutoff) and deletes it', async () => {
    const ns = 'crashed';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'data');
    await startPod(t.core, ns, 'app', { claims: ['data'] });
    // a run that died after making its objects
    const [pvc] = await readPvcs(t, ns, ['data']);
    const snapName = await createVolumeSnapshot(t.kc, ns, 'data', 'csi-hostpath-snapclass');
    await createClonePvc(t.kc, ns, pvc as V1PersistentVolumeClaim, snapName);
    await startMover(t.kc, ns, 'data', { readOnly: true, purpose: 'backup' });
    expect(await managedLeftovers(t, ns)).toHaveLength(3);

    const recent = await removeLeftovers(t.kc, ns);
    expect(recent.found).toEqual([]);
    const listed = await removeLeftovers(t.kc, ns, { olderThanMs: 0, dryRun: true });
    expect(listed.found.map((f) => f.kind).sort()).toEqual(['pod', 'pvc', 'volumesnapshot']);
    expect(await managedLeftovers(t, ns)).toHaveLength(3);
    const removed = await removeLeftovers(t.kc, ns, { olderThanMs: 0 });
    expect(removed.errors).toEqual([]);
    await waitFor(async () => (await managedLeftovers(t, ns)).length === 0, 10_000, 'leftovers gone');
    // the application is untouched
    expect((await t.core.readNamespacedPod({ name: 'app', namespace: ns })).status?.phase).toBe('Running');
    expect((await readPvcs(t, ns, ['data']))[0]?.status?.phase).toBe('Bound');
  });

  it('abort before prepare finishes leaves nothing behind', async () => {
    const ns = 'abort-early';
    await createNamespace(t.core, ns);
    await createPvc(t.core, ns, 'a');
    const ac = new AbortController();
    ac.abort();
    await expect(prepareVolumeBackups(t.kc, ns, await readPvcs(t, ns, ['a']), { mode: 'snapshot', signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(await managedLeftovers(t, ns)).toEqual([]);
  });
});
