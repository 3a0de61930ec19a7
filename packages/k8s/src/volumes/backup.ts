/**
 * Volume data of a namespace's PVCs as tar streams for the engine.
 *
 * Per PVC, the method:
 *  - `snapshot`: a CSI VolumeSnapshot (taken during prepare: crash-consistent, and the point in
 *    time is fixed when prepare returns), then a PVC cloned from it, read by a mover pod;
 *  - `fs`: a mover pod mounting the PVC itself read-only (the data is read live, while the
 *    backup streams).
 * `auto` picks `snapshot` when a VolumeSnapshotClass serves the PVC's CSI driver, else `fs`
 * (and falls back to `fs`, with a warning, when the snapshot fails).
 *
 * Streams are lazy: a volume's mover (and clone) is made when the engine starts reading its
 * stream, at most `parallel` at once, and deleted as soon as the stream ends. A PVC that cannot
 * be read is a warning and a record with `error`, never a thrown error: a failure before the
 * first byte leaves an empty item, one in the middle a truncated item — the record says so, and
 * a restore must skip items whose record has an error. Only aborts throw (from the stream).
 * `cleanup()` deletes whatever is left (mover pods, clone PVCs, VolumeSnapshots), also after
 * failures and aborts.
 */
import { CoreV1Api, StorageV1Api, type KubeConfig, type V1PersistentVolumeClaim } from '@kubernetes/client-node';

import { ExecError, openExec } from '../exec.js';
import { volumeItemName } from '../layout.js';
import { startMover, type Mover } from './mover.js';
import {
  classForDriver,
  createClonePvc,
  createVolumeSnapshot,
  listSnapshotClasses,
  waitVolumeSnapshot,
  type SnapshotClassInfo,
} from './snapshots.js';
import { CleanedUpError, ResourceTracker } from './tracker.js';
import { Semaphore, abortError, apiStatus, errorMessage, isAbortError } from './util.js';

export type VolumeBackupMode = 'auto' | 'snapshot' | 'fs' | 'none';
export type VolumeMethod = 'snapshot' | 'fs';

export const VOLUME_MEDIA_TYPE = 'application/x-tar';
/** The tar command a mover runs: the whole volume, paths relative to its root (`./…`). */
export const TAR_CREATE = ['tar', 'cf', '-', '-C', '/data', '.'];

export interface VolumeBackupOptions {
  mode: VolumeBackupMode;
  /** Image of the mover pods (default busybox:1.36; it needs `tar` and `sleep`). */
  moverImage?: string;
  /** Volumes read at once (default 2). */
  parallel?: number;
  signal?: AbortSignal;
  onWarning?(msg: string): void;
  /** How long a mover pod may take to run (default 5 min). */
  startTimeoutMs?: number;
  /** How long a VolumeSnapshot may take to be cut, and then to be ready (default 10 min each). */
  snapshotTimeoutMs?: number;
  /** Upper bound of one volume's tar stream (default none). */
  readTimeoutMs?: number;
}

export interface VolumeRecord {
  pvc: string;
  storageClass?: string;
  driver?: string;
  /** The PVC's capacity (status, else request), as a quantity. */
  capacity?: string;
  method: VolumeMethod;
  /** The engine item holding the tar stream. */
  item: string;
  /** Bytes of tar read (set once the stream ran). */
  bytes?: number;
  snapshotName?: string;
  snapshotClass?: string;
  /** Set when the volume could not be read (completely): the item is empty or truncated. */
  error?: string;
  /** Why the method differs from the one asked for (e.g. snapshot failed → fs). */
  note?: string;
  durationMs?: number;
}

export interface VolumeStream {
  name: string;
  stream: AsyncIterable<Uint8Array>;
  mediaType: string;
}

export interface PreparedVolumeBackups {
  streams: VolumeStream[];
  /** One record per PVC (none for mode `none`), updated as the streams run. */
  records(): VolumeRecord[];
  /** Deletes every mover pod, clone PVC and VolumeSnapshot made; stops running reads. */
  cleanup(): Promise<void>;
  /**
   * True when no volume is read live: every one comes from a snapshot already cut when prepare
   * returned, so post-hooks may run right away. False when some volume is read through a mover
   * on the live PVC: run post-hooks after the backup.
   */
  consistentAfterPrepare: boolean;
}

interface Planned {
  pvc: V1PersistentVolumeClaim;
  name: string;
  record: VolumeRecord;
  snapshotClass?: SnapshotClassInfo;
  /** Set during prepare for the snapshot method. */
  snapshotName?: string;
}

function capacityOf(pvc: V1PersistentVolumeClaim): string | undefined {
  return pvc.status?.capacity?.storage ?? pvc.spec?.resources?.requests?.storage;
}

/** Runs `fn` over items, at most `limit` at once. */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** The CSI driver behind a PVC: its PV's `csi.driver`, else its StorageClass's provisioner. */
async function driverOf(
  kc: KubeConfig,
  pvc: V1PersistentVolumeClaim,
  classCache: Map<string, Promise<string | undefined>>,
): Promise<string | undefined> {
  const core = kc.makeApiClient(CoreV1Api);
  const volumeName = pvc.spec?.volumeName;
  if (volumeName) {
    try {
      const pv = await core.readPersistentVolume({ name: volumeName });
      if (pv.spec?.csi?.driver) return pv.spec.csi.driver;
    } catch {
      // PVs are cluster-scoped: a namespace-limited user may not read them
    }
  }
  const className = pvc.spec?.storageClassName;
  if (!className) return undefined;
  let p = classCache.get(className);
  if (!p) {
    const storage = kc.makeApiClient(StorageV1Api);
    p = storage.readStorageClass({ name: className }).then(
      (sc) => sc.provisioner,
      () => undefined,
    );
    classCache.set(className, p);
  }
  return p;
}

export async function prepareVolumeBackups(
  kc: KubeConfig,
  namespace: string,
  pvcs: V1PersistentVolumeClaim[],
  opts: VolumeBackupOptions,
): Promise<PreparedVolumeBackups> {
  const warn = (msg: string) => opts.onWarning?.(msg);
  const tracker = new ResourceTracker(kc, warn);
  const signal = opts.signal ? AbortSignal.any([opts.signal, tracker.signal]) : tracker.signal;
  const planned: Planned[] = [];
  const cleanup = () => tracker.cleanup();

  if (opts.mode === 'none' || pvcs.length === 0) {
    return { streams: [], records: () => [], cleanup, consistentAfterPrepare: true };
  }

  try {
    // -- classify every PVC
    const classCache = new Map<string, Promise<string | undefined>>();
    let snapshotClasses: SnapshotClassInfo[] = [];
    if (opts.mode === 'auto' || opts.mode === 'snapshot') {
      try {
        const found = await listSnapshotClasses(kc);
        snapshotClasses = found.classes;
        if (found.forbidden) warn('cannot list VolumeSnapshotClasses (forbidden): volumes are read through mover pods');
      } catch (err) {
        warn(`cannot list VolumeSnapshotClasses: ${errorMessage(err)}; volumes are read through mover pods`);
      }
    }
    const core = kc.makeApiClient(CoreV1Api);
    for (const given of pvcs) {
      let pvc = given;
      const name = pvc.metadata?.name ?? '';
      if (!pvc.status?.phase && name) {
        // an object without status (e.g. sanitised): ask the cluster
        pvc = await core.readNamespacedPersistentVolumeClaim({ name, namespace }).catch(() => given);
      }
      const record: VolumeRecord = {
        pvc: name,
        storageClass: pvc.spec?.storageClassName ?? undefined,
        capacity: capacityOf(pvc),
        method: opts.mode === 'snapshot' ? 'snapshot' : 'fs',
        item: volumeItemName(name),
      };
      const item: Planned = { pvc, name, record };
      planned.push(item);
      const phase = pvc.status?.phase;
      if (phase !== 'Bound') {
        record.error = `PVC is ${phase ?? 'not bound'}: no volume to read`;
        warn(`volume ${namespace}/${name} skipped: ${record.error}`);
        continue;
      }
      if (pvc.spec?.volumeMode === 'Block') {
        record.error = 'block-mode volumes are not supported (only Filesystem)';
        warn(`volume ${namespace}/${name} skipped: ${record.error}`);
        continue;
      }
      if (opts.mode === 'fs') {
        record.driver = await driverOf(kc, pvc, classCache);
        continue;
      }
      record.driver = await driverOf(kc, pvc, classCache);
      const cls = classForDriver(snapshotClasses, record.driver);
      if (cls) {
        record.method = 'snapshot';
        record.snapshotClass = cls.name;
        item.snapshotClass = cls;
      } else if (opts.mode === 'snapshot') {
        record.error = record.driver
          ? `no VolumeSnapshotClass serves the CSI driver ${record.driver}`
          : 'the PVC has no known CSI driver (no PV to read, no StorageClass provisioner)';
        warn(`volume ${namespace}/${name} skipped (--volumes snapshot): ${record.error}`);
      } else {
        record.method = 'fs';
      }
    }

    // -- take the snapshots now: their point in time is the backup's
    const toSnapshot = planned.filter((p) => !p.record.error && p.record.method === 'snapshot');
    await forEachLimit(toSnapshot, 8, async (p) => {
      try {
        const snap = await tracker.run(() => createVolumeSnapshot(kc, namespace, p.name, p.snapshotClass?.name ?? ''));
        tracker.add('volumesnapshot', namespace, snap);
        p.snapshotName = snap;
        p.record.snapshotName = snap;
        await waitVolumeSnapshot(kc, namespace, snap, 'cut', { timeoutMs: opts.snapshotTimeoutMs, signal });
      } catch (err) {
        if (signal.aborted) throw abortError(signal);
        if (p.snapshotName) await tracker.release('volumesnapshot', namespace, p.snapshotName).catch(() => {});
        if (opts.mode === 'auto') {
          p.record.method = 'fs';
          p.record.note = `snapshot failed (${errorMessage(err)}); read live through a mover pod`;
          delete p.record.snapshotName;
          delete p.snapshotName;
          warn(`volume ${namespace}/${p.name}: ${p.record.note}`);
        } else {
          p.record.error = errorMessage(err);
          warn(`volume ${namespace}/${p.name} not backed up: ${p.record.error}`);
        }
      }
    });
  } catch (err) {
    await tracker.cleanup().catch(() => {});
    if (signal.aborted || isAbortError(err)) throw abortError(opts.signal?.aborted ? opts.signal : signal);
    throw err;
  }

  const semaphore = new Semaphore(Math.max(1, opts.parallel ?? 2));
  const readable = planned.filter((p) => !p.record.error);
  const streams: VolumeStream[] = readable.map((p) => ({
    name: p.record.item,
    mediaType: VOLUME_MEDIA_TYPE,
    stream: volumeStream(kc, namespace, p, opts, tracker, semaphore, signal, warn),
  }));
  return {
    streams,
    records: () => planned.map((p) => ({ ...p.record })),
    cleanup,
    consistentAfterPrepare: readable.every((p) => p.record.method === 'snapshot'),
  };
}

/** The source PVC a mover reads for this volume: a clone of the snapshot, or the PVC itself. */
async function readSource(
  kc: KubeConfig,
  namespace: string,
  p: Planned,
  opts: VolumeBackupOptions,
  tracker: ResourceTracker,
  signal: AbortSignal,
): Promise<string> {
  if (p.record.method !== 'snapshot' || !p.snapshotName) return p.name;
  const snap = p.snapshotName;
  const status = await waitVolumeSnapshot(kc, namespace, snap, 'ready', { timeoutMs: opts.snapshotTimeoutMs, signal });
  const clone = await tracker.run(() => createClonePvc(kc, namespace, p.pvc, snap, status.restoreSize));
  tracker.add('pvc', namespace, clone);
  return clone;
}

async function* volumeStream(
  kc: KubeConfig,
  namespace: string,
  p: Planned,
  opts: VolumeBackupOptions,
  tracker: ResourceTracker,
  semaphore: Semaphore,
  signal: AbortSignal,
  warn: (msg: string) => void,
): AsyncGenerator<Uint8Array> {
  const record = p.record;
  const release = await semaphore.acquire(signal);
  const started = Date.now();
  let bytes = 0;
  let mover: Mover | undefined;
  let clone: string | undefined;
  try {
    let source: string;
    try {
      source = await readSource(kc, namespace, p, opts, tracker, signal);
      if (source !== p.name) clone = source;
    } catch (err) {
      if (signal.aborted) throw err;
      if (opts.mode !== 'auto') throw err;
      // auto: fall back to reading the live PVC
      record.note = `snapshot could not be read (${errorMessage(err)}); read live through a mover pod`;
      warn(`volume ${namespace}/${p.name}: ${record.note}`);
      record.method = 'fs';
      if (p.snapshotName) await tracker.release('volumesnapshot', namespace, p.snapshotName).catch(() => {});
      source = p.name;
    }
    mover = await tracker.run(() =>
      startMover(kc, namespace, source, {
        image: opts.moverImage,
        readOnly: true,
        purpose: 'backup',
        startTimeoutMs: opts.startTimeoutMs,
        signal,
        onCreated: (name) => tracker.add('pod', namespace, name),
      }),
    );
    if (tracker.isClosed) throw new CleanedUpError();
    const session = openExec(kc, { namespace, pod: mover.name, container: mover.container }, TAR_CREATE, {
      signal,
      timeoutMs: opts.readTimeoutMs,
      maxBuffer: 64 * 1024,
    });
    tracker.addSession(session);
    for await (const chunk of session.stdout) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      record.bytes = bytes;
      yield buf;
    }
    const result = await session.result;
    // an abort is an abort even when the data happened to be complete
    if (signal.aborted) throw abortError(signal);
    if (result.exitCode !== 0) {
      const stderr = result.stderr.toString('utf8').trim().split('\n').slice(-5).join('; ');
      throw new Error(`tar exited with code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`);
    }
    record.bytes = bytes;
  } catch (err) {
    if (signal.aborted) throw opts.signal?.aborted ? abortError(opts.signal) : abortError(signal);
    record.bytes = bytes;
    record.error = `${bytes > 0 ? 'read incompletely' : 'not read'}: ${errorMessage(err)}`;
    warn(`volume ${namespace}/${p.name} ${record.error}`);
    if (apiStatus(err) === 403 || (err instanceof ExecError && err.httpStatus === 403)) warn(`check your permissions: kubectl auth can-i create pods/exec -n ${namespace}`);
  } finally {
    record.durationMs = Date.now() - started;
    // free this volume's objects right away; cleanup() catches what this misses
    const steps: Array<Promise<void>> = [];
    if (mover) steps.push(tracker.release('pod', namespace, mover.name).catch(() => {}));
    await Promise.all(steps);
    if (clone) await tracker.release('pvc', namespace, clone).catch(() => {});
    if (p.snapshotName) await tracker.release('volumesnapshot', namespace, p.snapshotName).catch(() => {});
    release();
  }
}
