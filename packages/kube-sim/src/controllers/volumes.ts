/**
 * PersistentVolume controller and CSI provisioner: binds PVCs to pre-existing PVs (claimRef or
 * matching class/size), provisions PVs dynamically for StorageClasses with a provisioner (one
 * local directory per PV under `<dataDir>/volumes/<pv>/`), pre-fills volumes from a
 * VolumeSnapshot or a PVC `dataSource`, reclaims (Delete/Retain) released volumes and runs the
 * pvc-protection / pv-protection finalizers.
 */
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import type { ChangeEvent, KubeObject } from '../store-api.js';
import { RefIndex } from './indexes.js';
import { podClaims } from './pods.js';
import {
  QueueController,
  T,
  clone,
  ignoreNotFound,
  isPodActive,
  isType,
  keyOf,
  nowIso,
  parseQuantity,
  splitKey,
  sameJson,
} from './util.js';

const PVC_PROTECTION = 'kubernetes.io/pvc-protection';
const PV_PROTECTION = 'kubernetes.io/pv-protection';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

interface PvcSpec {
  storageClassName?: string | null;
  volumeName?: string;
  accessModes?: string[];
  volumeMode?: string;
  resources?: { requests?: { storage?: string } };
  dataSource?: { apiGroup?: string; kind: string; name: string };
  dataSourceRef?: { apiGroup?: string; kind: string; name: string; namespace?: string };
}

interface ClaimRef {
  kind?: string;
  apiVersion?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  resourceVersion?: string;
}

interface PvSpec {
  claimRef?: ClaimRef;
  storageClassName?: string;
  capacity?: { storage?: string };
  accessModes?: string[];
  persistentVolumeReclaimPolicy?: string;
  csi?: { driver: string; volumeHandle: string };
}

const pvcSpec = (o: KubeObject) => (o.spec ?? {}) as PvcSpec;
const BETA_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** The claim's class: the beta annotation wins over the field, as in the real PV controller. */
function claimClass(pvc: KubeObject): string | null | undefined {
  return pvc.metadata.annotations?.[BETA_CLASS] ?? pvcSpec(pvc).storageClassName;
}
const pvSpec = (o: KubeObject) => (o.spec ?? {}) as PvSpec;
const phaseOf = (o: KubeObject | undefined) => (o?.status as { phase?: string } | undefined)?.phase;

/** The directory that holds a PersistentVolume's data. */
export function volumeDir(dataDir: string, pvName: string): string {
  return join(dataDir, 'volumes', pvName);
}

/** The directory that holds a snapshot's copy, by snapshot handle. */
export function snapshotDir(dataDir: string, handle: string): string {
  return join(dataDir, 'snapshots', handle);
}

export async function copyDir(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await mkdir(to, { recursive: true });
  await cp(from, to, { recursive: true, force: true, preserveTimestamps: true, verbatimSymlinks: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a['storageclass.kubernetes.io/is-default-class'] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
}

export class VolumeController extends QueueController {
  readonly name = 'persistentvolume';

  /** Pods by the claims they mount. */
  private readonly claimUsers = new RefIndex(podClaims);

  protected resync(): void {
    for (const pod of this.ctx.store.peekList(T.pods)) this.claimUsers.upsert(pod);
    for (const pvc of this.ctx.store.peekList(T.pvcs)) this.enqueue(`pvc:${keyOf(pvc)}`);
    for (const pv of this.ctx.store.peekList(T.pvs)) this.enqueue(`pv:${keyOf(pv)}`);
  }

  protected onEvent(event: ChangeEvent): void {
    const obj = event.object;
    if (isType(event.resource, T.pvcs)) {
      if (event.type === 'DELETED') {
        const volume = pvcSpec(obj).volumeName;
        if (volume) this.enqueue(`pv:${volume}`);
        for (const pv of this.ctx.store.peekList(T.pvs)) {
          const ref = pvSpec(pv).claimRef;
          if (ref?.namespace === obj.metadata.namespace && ref?.name === obj.metadata.name) this.enqueue(`pv:${keyOf(pv)}`);
        }
      } else this.enqueue(`pvc:${keyOf(obj)}`);
    } else if (isType(event.resource, T.pvs)) {
      if (event.type === 'DELETED') {
        if (pvSpec(obj).persistentVolumeReclaimPolicy !== 'Retain' && obj.metadata.name) {
          void rm(volumeDir(this.ctx.dataDir, obj.metadata.name), { recursive: true, force: true }).catch(() => {});
        }
      } else this.enqueue(`pv:${keyOf(obj)}`);
      const ref = pvSpec(obj).claimRef;
      if (ref?.namespace && ref.name) this.enqueue(`pvc:${ref.namespace}/${ref.name}`);
    } else if (isType(event.resource, T.pods)) {
      this.claimUsers.onEvent(event);
      const ns = obj.metadata.namespace;
      for (const claim of podClaims(obj)) this.enqueue(`pvc:${ns}/${claim}`);
    } else if (isType(event.resource, T.storageclasses)) {
      for (const pvc of this.ctx.store.peekList(T.pvcs)) if (phaseOf(pvc) !== 'Bound') this.enqueue(`pvc:${keyOf(pvc)}`);
    } else if (isType(event.resource, T.volumesnapshots)) {
      const ns = obj.metadata.namespace;
      for (const pvc of this.ctx.store.peekList(T.pvcs, ns)) {
        if (phaseOf(pvc) !== 'Bound' && (pvcSpec(pvc).dataSource ?? pvcSpec(pvc).dataSourceRef)) this.enqueue(`pvc:${keyOf(pvc)}`);
      }
    }
  }

  protected async reconcile(key: string): Promise<void> {
    if (key.startsWith('pvc:')) await this.reconcileClaim(key.slice(4));
    else if (key.startsWith('pv:')) this.reconcileVolume(key.slice(3));
  }

  private claimInUse(pvc: KubeObject): boolean {
    return this.claimUsers.referring(pvc.metadata.namespace, pvc.metadata.name ?? '').some(isPodActive);
  }

  private async reconcileClaim(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    let pvc = store.peek(T.pvcs, namespace, name);
    if (!pvc) return;
    if (pvc.metadata.deletionTimestamp) {
      if (pvc.metadata.finalizers?.includes(PVC_PROTECTION) && !this.claimInUse(pvc)) {
        const updated = clone(pvc);
        updated.metadata.finalizers = (updated.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION);
        store.update(T.pvcs, namespace, updated);
      }
      return;
    }
    if (!pvc.metadata.finalizers?.includes(PVC_PROTECTION)) {
      const updated = clone(pvc);
      updated.metadata.finalizers = [...(updated.metadata.finalizers ?? []), PVC_PROTECTION];
      pvc = store.update(T.pvcs, namespace, updated);
    }
    const spec = pvcSpec(pvc);

    // already bound?
    if (spec.volumeName) {
      const pv = store.peek(T.pvs, undefined, spec.volumeName);
      if (!pv) {
        if (phaseOf(pvc) === 'Bound') this.writeStatus(T.pvcs, pvc, { ...(pvc.status ?? {}), phase: 'Lost' });
        return;
      }
      const ref = pvSpec(pv).claimRef;
      if (!ref || (ref.namespace === namespace && ref.name === name && (!ref.uid || ref.uid === pvc.metadata.uid))) {
        this.bind(pvc, this.expand(pvc, pv));
      }
      return;
    }

    // static binding: a PV pre-bound to this claim, or an available PV that fits
    const pvs = store.peekList(T.pvs).filter((pv) => !pv.metadata.deletionTimestamp);
    const preBound = pvs.find((pv) => {
      const ref = pvSpec(pv).claimRef;
      return ref?.namespace === namespace && ref?.name === name && (!ref.uid || ref.uid === pvc?.metadata.uid);
    });
    if (preBound) {
      this.bind(pvc, preBound);
      return;
    }
    const wanted = parseQuantity(spec.resources?.requests?.storage);
    const className = claimClass(pvc) ?? undefined;
    const fits = pvs.find((pv) => {
      const s = pvSpec(pv);
      return (
        !s.claimRef &&
        phaseOf(pv) !== 'Released' &&
        (s.storageClassName ?? '') === (className ?? '') &&
        parseQuantity(s.capacity?.storage) >= wanted &&
        (spec.accessModes ?? []).every((m) => s.accessModes?.includes(m))
      );
    });
    if (fits && !(spec.dataSource ?? spec.dataSourceRef)) {
      this.bind(pvc, fits);
      return;
    }

    // dynamic provisioning
    let classObj: KubeObject | undefined;
    const wantedClass = claimClass(pvc);
    if (wantedClass === undefined || wantedClass === null) {
      classObj = store.peekList(T.storageclasses).find(isDefaultClass);
      if (classObj) {
        // retroactive default StorageClass assignment
        const updated = clone(pvc);
        (updated.spec as PvcSpec).storageClassName = classObj.metadata.name;
        pvc = store.update(T.pvcs, namespace, updated);
      }
    } else if (wantedClass !== '') {
      classObj = store.peek(T.storageclasses, undefined, wantedClass);
    }
    const provisioner = classObj?.provisioner as string | undefined;
    if (!classObj || !provisioner || provisioner === NO_PROVISIONER) {
      this.writeStatus(T.pvcs, pvc, { phase: 'Pending' });
      return;
    }
    const annotations = pvc.metadata.annotations ?? {};
    if (classObj.volumeBindingMode === 'WaitForFirstConsumer' && !annotations['volume.kubernetes.io/selected-node']) {
      if (!this.claimInUse(pvc)) {
        this.writeStatus(T.pvcs, pvc, { phase: 'Pending' });
        return;
      }
    }

    // where does the initial content come from?
    let source: string | undefined;
    const ds = spec.dataSourceRef ?? spec.dataSource;
    if (ds?.kind === 'VolumeSnapshot' && ds.apiGroup === 'snapshot.storage.k8s.io') {
      const vs = store.peek(T.volumesnapshots, namespace, ds.name);
      const vsStatus = vs?.status as { readyToUse?: boolean; boundVolumeSnapshotContentName?: string } | undefined;
      const content = vsStatus?.boundVolumeSnapshotContentName
        ? store.peek(T.volumesnapshotcontents, undefined, vsStatus.boundVolumeSnapshotContentName)
        : undefined;
      const handle = (content?.status as { snapshotHandle?: string } | undefined)?.snapshotHandle;
      if (!vsStatus?.readyToUse || !handle) {
        this.writeStatus(T.pvcs, pvc, { phase: 'Pending' });
        return;
      }
      source = snapshotDir(this.ctx.dataDir, handle);
    } else if (ds?.kind === 'PersistentVolumeClaim' && !ds.apiGroup) {
      const src = store.peek(T.pvcs, namespace, ds.name);
      const srcVolume = src && phaseOf(src) === 'Bound' ? pvcSpec(src).volumeName : undefined;
      if (!srcVolume) {
        this.writeStatus(T.pvcs, pvc, { phase: 'Pending' });
        return;
      }
      source = volumeDir(this.ctx.dataDir, srcVolume);
    }

    if (annotations['volume.kubernetes.io/storage-provisioner'] !== provisioner) {
      const updated = clone(pvc);
      updated.metadata.annotations = {
        ...annotations,
        'volume.beta.kubernetes.io/storage-provisioner': provisioner,
        'volume.kubernetes.io/storage-provisioner': provisioner,
      };
      if (classObj.volumeBindingMode === 'WaitForFirstConsumer') {
        updated.metadata.annotations['volume.kubernetes.io/selected-node'] = this.ctx.nodeName;
      }
      pvc = store.update(T.pvcs, namespace, updated);
    }

    const pvName = `pvc-${pvc.metadata.uid}`;
    const dir = volumeDir(this.ctx.dataDir, pvName);
    let pv = store.peek(T.pvs, undefined, pvName);
    if (!pv) {
      if (source) await copyDir(source, dir);
      else await mkdir(dir, { recursive: true });
      pvc = store.peek(T.pvcs, namespace, name);
      if (!pvc || pvc.metadata.deletionTimestamp) return;
      const storage = spec.resources?.requests?.storage ?? '1Gi';
      pv = store.create(T.pvs, undefined, {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: pvName,
          annotations: {
            'pv.kubernetes.io/provisioned-by': provisioner,
            'volume.kubernetes.io/provisioner-deletion-secret-name': '',
            'volume.kubernetes.io/provisioner-deletion-secret-namespace': '',
          },
          finalizers: [PV_PROTECTION],
        },
        spec: {
          accessModes: spec.accessModes ?? ['ReadWriteOnce'],
          capacity: { storage },
          claimRef: {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            name,
            namespace,
            resourceVersion: pvc.metadata.resourceVersion,
            uid: pvc.metadata.uid,
          },
          csi: {
            driver: provisioner,
            fsType: 'ext4',
            volumeAttributes: { 'storage.kubernetes.io/csiProvisionerIdentity': `kube-sim-${provisioner}` },
            volumeHandle: `${pvc.metadata.uid}`,
          },
          persistentVolumeReclaimPolicy: (classObj.reclaimPolicy as string | undefined) ?? 'Delete',
          storageClassName: classObj.metadata.name,
          volumeMode: spec.volumeMode ?? 'Filesystem',
        },
      });
    }
    this.bind(pvc, pv);
  }

  /** Volume expansion: a bound claim asking for more than its PV has grows the PV. */
  private expand(pvc: KubeObject, pv: KubeObject): KubeObject {
    const wanted = pvcSpec(pvc).resources?.requests?.storage;
    const has = pvSpec(pv).capacity?.storage;
    if (!wanted || parseQuantity(wanted) <= parseQuantity(has)) return pv;
    const className = claimClass(pvc);
    const cls = className ? this.ctx.store.peek(T.storageclasses, undefined, className) : undefined;
    if (cls?.allowVolumeExpansion !== true) return pv;
    const updated = clone(pv);
    (updated.spec as PvSpec).capacity = { ...((updated.spec as PvSpec).capacity ?? {}), storage: wanted };
    return this.ctx.store.update(T.pvs, undefined, updated);
  }

  /** Binds both sides, the way the PV controller does (claimRef, volumeName, annotations, phases). */
  private bind(pvc: KubeObject, pv: KubeObject): void {
    const store = this.ctx.store;
    const ns = pvc.metadata.namespace;
    const ref = pvSpec(pv).claimRef;
    if (!ref?.uid || ref.uid !== pvc.metadata.uid) {
      const updated = clone(pv);
      const wasRefed = !!ref;
      (updated.spec as PvSpec).claimRef = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        name: pvc.metadata.name,
        namespace: ns,
        resourceVersion: pvc.metadata.resourceVersion,
        uid: pvc.metadata.uid,
      };
      if (!wasRefed) {
        updated.metadata.annotations = { ...(updated.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
      }
      pv = store.update(T.pvs, undefined, updated);
    }
    if (!pv.metadata.finalizers?.includes(PV_PROTECTION)) {
      const updated = clone(pv);
      updated.metadata.finalizers = [...(updated.metadata.finalizers ?? []), PV_PROTECTION];
      pv = store.update(T.pvs, undefined, updated);
    }
    this.writeStatus(T.pvs, pv, { phase: 'Bound' });
    void mkdir(volumeDir(this.ctx.dataDir, pv.metadata.name ?? ''), { recursive: true }).catch(() => {});

    const spec = pvcSpec(pvc);
    const annotations = pvc.metadata.annotations ?? {};
    if (spec.volumeName !== pv.metadata.name || annotations['pv.kubernetes.io/bind-completed'] !== 'yes') {
      const updated = clone(pvc);
      const next: Record<string, string> = { ...annotations, 'pv.kubernetes.io/bind-completed': 'yes' };
      if (!spec.volumeName) next['pv.kubernetes.io/bound-by-controller'] = 'yes';
      updated.metadata.annotations = next;
      (updated.spec as PvcSpec).volumeName = pv.metadata.name;
      pvc = store.update(T.pvcs, ns, updated);
    }
    const pvs = pvSpec(pv);
    this.writeStatus(T.pvcs, pvc, {
      ...((pvc.status as Record<string, unknown> | undefined) ?? {}),
      phase: 'Bound',
      accessModes: pvs.accessModes ?? [],
      capacity: pvs.capacity ?? {},
    });
  }

  private reconcileVolume(name: string): void {
    const store = this.ctx.store;
    const pv = store.peek(T.pvs, undefined, name);
    if (!pv) return;
    const spec = pvSpec(pv);
    const ref = spec.claimRef;
    const pvc = ref?.name ? store.peek(T.pvcs, ref.namespace, ref.name) : undefined;
    const claimGone = !!ref?.uid && (!pvc || pvc.metadata.uid !== ref.uid);
    if (pv.metadata.deletionTimestamp) {
      if (pv.metadata.finalizers?.includes(PV_PROTECTION) && (!ref?.uid || claimGone)) {
        const updated = clone(pv);
        updated.metadata.finalizers = (updated.metadata.finalizers ?? []).filter((f) => f !== PV_PROTECTION);
        store.update(T.pvs, undefined, updated);
      }
      return;
    }
    if (claimGone) {
      if ((spec.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete') {
        ignoreNotFound(() => store.delete(T.pvs, undefined, name));
      } else {
        this.writeStatus(T.pvs, pv, { phase: 'Released' });
      }
      return;
    }
    if (!ref) this.writeStatus(T.pvs, pv, { phase: 'Available' });
    else if (!ref.uid) {
      this.writeStatus(T.pvs, pv, { phase: 'Available' });
      if (pvc) this.enqueue(`pvc:${keyOf(pvc)}`);
    } else if (phaseOf(pv) !== 'Bound') this.writeStatus(T.pvs, pv, { phase: 'Bound' });
  }

  private writeStatus(type: typeof T.pvs | typeof T.pvcs, obj: KubeObject, status: Record<string, unknown>): void {
    const prev = (obj.status ?? {}) as Record<string, unknown>;
    const next = { ...status };
    if (type === T.pvs) {
      if (prev.phase === next.phase && prev.lastPhaseTransitionTime) next.lastPhaseTransitionTime = prev.lastPhaseTransitionTime;
      else next.lastPhaseTransitionTime = nowIso();
    }
    if (sameJson(prev, next)) return;
    this.ctx.store.updateStatus(type, obj.metadata.namespace, { ...obj, status: next });
  }
}

export { exists as pathExists };
