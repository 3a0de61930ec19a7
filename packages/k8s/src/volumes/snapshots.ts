/**
 * CSI snapshots (snapshot.storage.k8s.io/v1): find the VolumeSnapshotClass that serves a
 * driver, take a VolumeSnapshot of a PVC, wait until it is cut / ready, and make a PVC cloned
 * from it (its data is what a mover reads).
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1PersistentVolumeClaim } from '@kubernetes/client-node';

import {
  COMPONENT_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  PVC_ANNOTATION,
  SNAPSHOT_GROUP,
  SNAPSHOT_VERSION,
  apiStatus,
  errorMessage,
  generatedName,
  isNotFound,
  pollUntil,
} from './util.js';

export const SNAPSHOT_PREFIX = 'kubectl-backup-';
export const CLONE_PREFIX = 'kubectl-backup-clone-';
export const DEFAULT_SNAPSHOT_TIMEOUT_MS = 10 * 60_000;

export interface SnapshotClassInfo {
  name: string;
  driver: string;
  isDefault: boolean;
  deletionPolicy?: string;
}

export interface VolumeSnapshotStatus {
  boundVolumeSnapshotContentName?: string;
  creationTime?: string;
  readyToUse?: boolean;
  restoreSize?: string | number;
  error?: { message?: string; time?: string };
}

interface VolumeSnapshotObject {
  metadata?: { name?: string; deletionTimestamp?: string };
  status?: VolumeSnapshotStatus;
}

export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
}

/**
 * Every VolumeSnapshotClass; an empty list when the snapshot API is not served (404) or we may
 * not list it (403: `forbidden` is then true).
 */
export async function listSnapshotClasses(kc: KubeConfig): Promise<{ classes: SnapshotClassInfo[]; forbidden: boolean; served: boolean }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    const list = (await api.listClusterCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: 'volumesnapshotclasses' })) as {
      items?: Array<{ metadata?: { name?: string; annotations?: Record<string, string> }; driver?: string; deletionPolicy?: string }>;
    };
    const classes = (list.items ?? []).map((c) => ({
      name: c.metadata?.name ?? '',
      driver: c.driver ?? '',
      isDefault: c.metadata?.annotations?.['snapshot.storage.kubernetes.io/is-default-class'] === 'true',
      deletionPolicy: c.deletionPolicy,
    }));
    return { classes, forbidden: false, served: true };
  } catch (err) {
    const status = apiStatus(err);
    if (status === 404) return { classes: [], forbidden: false, served: false };
    if (status === 403 || status === 401) return { classes: [], forbidden: true, served: true };
    throw err;
  }
}

/** The class for a driver: the default one for it, else the only/first one. */
export function classForDriver(classes: SnapshotClassInfo[], driver: string | undefined): SnapshotClassInfo | undefined {
  if (!driver) return undefined;
  const forDriver = classes.filter((c) => c.driver === driver);
  return forDriver.find((c) => c.isDefault) ?? forDriver[0];
}

export async function createVolumeSnapshot(kc: KubeConfig, namespace: string, pvc: string, className: string): Promise<string> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const name = generatedName(SNAPSHOT_PREFIX, pvc);
  try {
    await api.createNamespacedCustomObject({
      group: SNAPSHOT_GROUP,
      version: SNAPSHOT_VERSION,
      namespace,
      plural: 'volumesnapshots',
      body: {
        apiVersion: `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`,
        kind: 'VolumeSnapshot',
        metadata: {
          name,
          namespace,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [COMPONENT_LABEL]: 'volume-snapshot' },
          annotations: { [PVC_ANNOTATION]: pvc },
        },
        spec: { volumeSnapshotClassName: className, source: { persistentVolumeClaimName: pvc } },
      },
    });
  } catch (err) {
    throw new SnapshotError(`cannot create a VolumeSnapshot of PVC ${namespace}/${pvc}: ${errorMessage(err)}`);
  }
  return name;
}

export async function readVolumeSnapshot(kc: KubeConfig, namespace: string, name: string): Promise<VolumeSnapshotObject> {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (await api.getNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', name })) as VolumeSnapshotObject;
}

/**
 * Waits until the snapshot is cut (`creationTime` set: the point in time is fixed, so hooks may
 * resume the application) or ready to use; throws on a snapshot error or timeout.
 */
export async function waitVolumeSnapshot(
  kc: KubeConfig,
  namespace: string,
  name: string,
  until: 'cut' | 'ready',
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<VolumeSnapshotStatus> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_SNAPSHOT_TIMEOUT_MS;
  let last: VolumeSnapshotStatus | undefined;
  return pollUntil(
    async () => {
      const vs = await readVolumeSnapshot(kc, namespace, name);
      const st = vs.status ?? {};
      last = st;
      if (st.readyToUse) return st;
      if (st.error?.message) throw new SnapshotError(`VolumeSnapshot ${namespace}/${name} failed: ${st.error.message}`);
      if (until === 'cut' && st.creationTime) return st;
      return undefined;
    },
    {
      timeoutMs,
      signal: options.signal,
      onTimeout: () =>
        new SnapshotError(
          `VolumeSnapshot ${namespace}/${name} was not ${until === 'cut' ? 'taken' : 'ready'} within ${Math.round(timeoutMs / 1000)}s (status ${JSON.stringify(last ?? {})})`,
        ),
    },
  );
}

/** A PVC whose content is the snapshot's, sized like the source. */
export async function createClonePvc(kc: KubeConfig, namespace: string, source: V1PersistentVolumeClaim, snapshot: string, restoreSize?: string | number): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const sourceName = source.metadata?.name ?? 'pvc';
  const name = generatedName(CLONE_PREFIX, sourceName);
  const size =
    source.status?.capacity?.storage ??
    source.spec?.resources?.requests?.storage ??
    (restoreSize !== undefined ? String(restoreSize) : '1Gi');
  try {
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [COMPONENT_LABEL]: 'volume-clone' },
          annotations: { [PVC_ANNOTATION]: sourceName },
        },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: source.spec?.storageClassName,
          volumeMode: 'Filesystem',
          resources: { requests: { storage: size } },
          dataSource: { apiGroup: SNAPSHOT_GROUP, kind: 'VolumeSnapshot', name: snapshot },
        },
      },
    });
  } catch (err) {
    throw new SnapshotError(`cannot create a PVC from VolumeSnapshot ${namespace}/${snapshot}: ${errorMessage(err)}`);
  }
  return name;
}

export async function deleteVolumeSnapshot(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    await api.deleteNamespacedCustomObject({ group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, namespace, plural: 'volumesnapshots', name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export async function deletePvc(kc: KubeConfig, namespace: string, name: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  try {
    await core.deleteNamespacedPersistentVolumeClaim({ name, namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
