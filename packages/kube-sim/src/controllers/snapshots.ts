/**
 * The CSI snapshot controller and sidecar (snapshot.storage.k8s.io/v1): a VolumeSnapshot of a
 * bound PVC gets a VolumeSnapshotContent and a copy of the PV directory under
 * `<dataDir>/snapshots/<snapshotHandle>/` (the handle is the content's name); pre-provisioned
 * contents (`source.snapshotHandle`) bind statically. Deleting a snapshot whose content has
 * deletionPolicy Delete removes the content and its copy.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { ChangeEvent, KubeObject } from '../store-api.js';
import { copyDir, pathExists, snapshotDir, volumeDir } from './volumes.js';
import { QueueController, T, clone, ignoreNotFound, isType, keyOf, nowIso, parseQuantity, splitKey, sameJson } from './util.js';

interface SnapshotSpec {
  volumeSnapshotClassName?: string;
  source?: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
}

interface ContentSpec {
  deletionPolicy?: string;
  driver?: string;
  source?: { volumeHandle?: string; snapshotHandle?: string };
  volumeSnapshotClassName?: string;
  volumeSnapshotRef?: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };
  sourceVolumeMode?: string;
}

interface SnapshotStatus {
  boundVolumeSnapshotContentName?: string;
  readyToUse?: boolean;
  creationTime?: string;
  restoreSize?: string;
  error?: { message: string; time: string };
}

const snapSpec = (o: KubeObject) => (o.spec ?? {}) as SnapshotSpec;
const contentSpec = (o: KubeObject) => (o.spec ?? {}) as ContentSpec;

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e);
    const st = await lstat(p);
    if (st.isDirectory()) total += await dirSize(p);
    else total += st.size;
  }
  return total;
}

export class SnapshotController extends QueueController {
  readonly name = 'snapshot';

  protected resync(): void {
    try {
      for (const c of this.ctx.store.peekList(T.volumesnapshotcontents)) this.enqueue(`content:${keyOf(c)}`);
      for (const s of this.ctx.store.peekList(T.volumesnapshots)) this.enqueue(`snap:${keyOf(s)}`);
    } catch {
      // snapshot CRDs not served: nothing to do
    }
  }

  protected onEvent(event: ChangeEvent): void {
    const obj = event.object;
    if (isType(event.resource, T.volumesnapshots)) {
      if (event.type === 'DELETED') {
        const content = (obj.status as SnapshotStatus | undefined)?.boundVolumeSnapshotContentName;
        if (content) this.enqueue(`content:${content}`);
        const pre = snapSpec(obj).source?.volumeSnapshotContentName;
        if (pre) this.enqueue(`content:${pre}`);
      } else this.enqueue(`snap:${keyOf(obj)}`);
    } else if (isType(event.resource, T.volumesnapshotcontents)) {
      if (event.type === 'DELETED') {
        const spec = contentSpec(obj);
        const handle = (obj.status as { snapshotHandle?: string } | undefined)?.snapshotHandle ?? spec.source?.snapshotHandle;
        if (spec.deletionPolicy === 'Delete' && handle) {
          void rm(snapshotDir(this.ctx.dataDir, handle), { recursive: true, force: true }).catch(() => {});
        }
      } else this.enqueue(`content:${keyOf(obj)}`);
      const ref = contentSpec(obj).volumeSnapshotRef;
      if (ref?.namespace && ref.name) this.enqueue(`snap:${ref.namespace}/${ref.name}`);
    } else if (isType(event.resource, T.pvcs) && event.type !== 'DELETED') {
      try {
        for (const s of this.ctx.store.peekList(T.volumesnapshots, obj.metadata.namespace)) {
          if (!(s.status as SnapshotStatus | undefined)?.readyToUse) this.enqueue(`snap:${keyOf(s)}`);
        }
      } catch {
        // not served
      }
    }
  }

  protected async reconcile(key: string): Promise<void> {
    if (key.startsWith('snap:')) await this.reconcileSnapshot(key.slice(5));
    else if (key.startsWith('content:')) await this.reconcileContent(key.slice(8));
  }

  private setSnapshotStatus(vs: KubeObject, status: SnapshotStatus): void {
    if (sameJson(vs.status ?? {}, status)) return;
    this.ctx.store.updateStatus(T.volumesnapshots, vs.metadata.namespace, { ...vs, status });
  }

  private fail(vs: KubeObject, message: string): void {
    const prev = (vs.status ?? {}) as SnapshotStatus;
    if (prev.error?.message === message) return;
    this.setSnapshotStatus(vs, { ...prev, readyToUse: false, error: { message, time: nowIso() } });
  }

  private async reconcileSnapshot(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    const vs = store.peek(T.volumesnapshots, namespace, name);
    if (!vs || vs.metadata.deletionTimestamp) return;
    const spec = snapSpec(vs);
    const status = (vs.status ?? {}) as SnapshotStatus;

    // pre-provisioned content
    if (spec.source?.volumeSnapshotContentName) {
      const content = store.peek(T.volumesnapshotcontents, undefined, spec.source.volumeSnapshotContentName);
      if (!content) {
        this.fail(vs, `VolumeSnapshotContent is missing`);
        return;
      }
      const ref = contentSpec(content).volumeSnapshotRef;
      if (ref?.name !== name || ref?.namespace !== namespace) {
        this.fail(vs, `VolumeSnapshotContent [${content.metadata.name}] is bound to a different snapshot`);
        return;
      }
      if (ref.uid !== vs.metadata.uid) {
        const updated = clone(content);
        (updated.spec as ContentSpec).volumeSnapshotRef = { ...ref, uid: vs.metadata.uid, resourceVersion: vs.metadata.resourceVersion };
        store.update(T.volumesnapshotcontents, undefined, updated);
        return; // the content's event brings us back
      }
      this.publish(vs, content);
      return;
    }

    if (status.boundVolumeSnapshotContentName) {
      const content = store.peek(T.volumesnapshotcontents, undefined, status.boundVolumeSnapshotContentName);
      if (content) {
        this.publish(vs, content);
        return;
      }
    }

    const claimName = spec.source?.persistentVolumeClaimName;
    if (!claimName) return;
    const pvc = store.peek(T.pvcs, namespace, claimName);
    const pvName = (pvc?.spec as { volumeName?: string } | undefined)?.volumeName;
    if (!pvc || (pvc.status as { phase?: string } | undefined)?.phase !== 'Bound' || !pvName) {
      this.setSnapshotStatus(vs, { readyToUse: false });
      return;
    }
    const pv = store.peek(T.pvs, undefined, pvName);
    const csi = (pv?.spec as { csi?: { driver: string; volumeHandle: string } } | undefined)?.csi;
    if (!pv || !csi) {
      this.fail(vs, `cannot snapshot PersistentVolume ${pvName}: not a CSI volume`);
      return;
    }
    let className = spec.volumeSnapshotClassName;
    if (!className) {
      const dflt = store
        .peekList(T.volumesnapshotclasses)
        .find(
          (c) =>
            c.driver === csi.driver && c.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class'] === 'true',
        );
      if (!dflt) {
        this.fail(vs, `cannot find default snapshot class`);
        return;
      }
      className = dflt.metadata.name ?? '';
    }
    const cls = store.peek(T.volumesnapshotclasses, undefined, className);
    if (!cls) {
      this.fail(vs, `failed to get input parameters to create snapshot ${name}: "volumesnapshotclass.snapshot.storage.k8s.io \\"${className}\\" not found"`);
      return;
    }
    if (cls.driver !== csi.driver) {
      this.fail(vs, `VolumeSnapshotClass ${className} is for driver ${String(cls.driver)}, the volume is served by ${csi.driver}`);
      return;
    }

    const contentName = `snapcontent-${vs.metadata.uid}`;
    let content = store.peek(T.volumesnapshotcontents, undefined, contentName);
    if (!content) {
      await copyDir(volumeDir(this.ctx.dataDir, pvName), snapshotDir(this.ctx.dataDir, contentName));
      const live = store.peek(T.volumesnapshots, namespace, name);
      if (!live || live.metadata.uid !== vs.metadata.uid || live.metadata.deletionTimestamp) {
        await rm(snapshotDir(this.ctx.dataDir, contentName), { recursive: true, force: true });
        return;
      }
      content = store.create(T.volumesnapshotcontents, undefined, {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshotContent',
        metadata: { name: contentName },
        spec: {
          deletionPolicy: (cls.deletionPolicy as string | undefined) ?? 'Delete',
          driver: csi.driver,
          source: { volumeHandle: csi.volumeHandle },
          sourceVolumeMode: 'Filesystem',
          volumeSnapshotClassName: className,
          volumeSnapshotRef: {
            apiVersion: 'snapshot.storage.k8s.io/v1',
            kind: 'VolumeSnapshot',
            name,
            namespace,
            resourceVersion: vs.metadata.resourceVersion,
            uid: vs.metadata.uid,
          },
        } satisfies ContentSpec,
      });
      const capacity = (pvc.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage;
      const updated = clone(content);
      updated.status = {
        creationTime: Date.now() * 1_000_000,
        readyToUse: true,
        restoreSize: Math.round(parseQuantity(capacity ?? '0')),
        snapshotHandle: contentName,
      };
      content = this.ctx.store.updateStatus(T.volumesnapshotcontents, undefined, updated);
    }
    this.publish(vs, content);
  }

  /** Copies a content's status into the snapshot's. */
  private publish(vs: KubeObject, content: KubeObject): void {
    const cs = (content.status ?? {}) as { readyToUse?: boolean; creationTime?: number; restoreSize?: number };
    const prev = (vs.status ?? {}) as SnapshotStatus;
    const claimName = snapSpec(vs).source?.persistentVolumeClaimName;
    const pvc = claimName ? this.ctx.store.peek(T.pvcs, vs.metadata.namespace, claimName) : undefined;
    const capacity = (pvc?.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage;
    const next: SnapshotStatus = {
      boundVolumeSnapshotContentName: content.metadata.name,
      readyToUse: cs.readyToUse === true,
    };
    if (cs.creationTime) next.creationTime = prev.creationTime ?? new Date(Math.floor(cs.creationTime / 1e6)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (cs.restoreSize !== undefined) next.restoreSize = prev.restoreSize ?? capacity ?? String(cs.restoreSize);
    this.setSnapshotStatus(vs, next);
  }

  private async reconcileContent(name: string): Promise<void> {
    const store = this.ctx.store;
    const content = store.peek(T.volumesnapshotcontents, undefined, name);
    if (!content || content.metadata.deletionTimestamp) return;
    const spec = contentSpec(content);
    const ref = spec.volumeSnapshotRef;
    const vs = ref?.name ? store.peek(T.volumesnapshots, ref.namespace, ref.name) : undefined;
    if (ref?.uid && (!vs || vs.metadata.uid !== ref.uid)) {
      // its snapshot is gone
      if (spec.deletionPolicy === 'Delete') ignoreNotFound(() => store.delete(T.volumesnapshotcontents, undefined, name));
      return;
    }
    const status = (content.status ?? {}) as { readyToUse?: boolean; snapshotHandle?: string };
    const handle = spec.source?.snapshotHandle;
    if (handle && status.readyToUse === undefined) {
      const dir = snapshotDir(this.ctx.dataDir, handle);
      const ready = await pathExists(dir);
      const updated = clone(content);
      updated.status = {
        creationTime: Date.now() * 1_000_000,
        readyToUse: ready,
        restoreSize: ready ? await dirSize(dir) : 0,
        snapshotHandle: handle,
      };
      store.updateStatus(T.volumesnapshotcontents, undefined, updated);
    }
  }
}
