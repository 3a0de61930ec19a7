/**
 * Objects a volume operation left behind when its process died before `cleanup()` (kill -9, a
 * lost connection): mover pods, clone PVCs and VolumeSnapshots labelled
 * `app.kubernetes.io/managed-by: kubectl-backup`. Only objects older than `olderThanMs`
 * (default 1 h) are touched, so that a backup running elsewhere keeps its own.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

import { deletePod } from './mover.js';
import { deletePvc, deleteVolumeSnapshot } from './snapshots.js';
import { COMPONENT_LABEL, MANAGED_BY, MANAGED_BY_LABEL, SNAPSHOT_GROUP, SNAPSHOT_VERSION, apiStatus, errorMessage } from './util.js';

export interface Leftover {
  kind: 'pod' | 'pvc' | 'volumesnapshot';
  name: string;
  created?: string;
}

export interface LeftoverOptions {
  /** Only objects created longer ago than this (default 1 hour; 0: all). */
  olderThanMs?: number;
  /** List only. */
  dryRun?: boolean;
  /** Reference time (default now). */
  now?: Date;
}

const SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY},${COMPONENT_LABEL} in (volume-backup,volume-restore,volume-verify,volume-clone,volume-snapshot)`;

/** Finds (and unless dryRun, deletes) leftovers in a namespace; returns what it found. */
export async function removeLeftovers(kc: KubeConfig, namespace: string, options: LeftoverOptions = {}): Promise<{ found: Leftover[]; errors: string[] }> {
  const core = kc.makeApiClient(CoreV1Api);
  const olderThan = options.olderThanMs ?? 3_600_000;
  const cutoff = (options.now ?? new Date()).getTime() - olderThan;
  const old = (created: Date | string | undefined) => olderThan <= 0 || (created !== undefined && new Date(created).getTime() <= cutoff);
  const found: Leftover[] = [];
  const errors: string[] = [];

  const pods = await core.listNamespacedPod({ namespace, labelSelector: SELECTOR });
  for (const p of pods.items) {
    if (old(p.metadata?.creationTimestamp)) found.push({ kind: 'pod', name: p.metadata?.name ?? '', created: String(p.metadata?.creationTimestamp ?? '') });
  }
  const pvcs = await core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: SELECTOR });
  for (const p of pvcs.items) {
    if (old(p.metadata?.creationTimestamp)) found.push({ kind: 'pvc', name: p.metadata?.name ?? '', created: String(p.metadata?.creationTimestamp ?? '') });
  }
  try {
    const snaps = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
      group: SNAPSHOT_GROUP,
      version: SNAPSHOT_VERSION,
      namespace,
      plural: 'volumesnapshots',
      labelSelector: SELECTOR,
    })) as { items?: Array<{ metadata?: { name?: string; creationTimestamp?: string } }> };
    for (const s of snaps.items ?? []) {
      if (old(s.metadata?.creationTimestamp)) found.push({ kind: 'volumesnapshot', name: s.metadata?.name ?? '', created: s.metadata?.creationTimestamp });
    }
  } catch (err) {
    if (apiStatus(err) !== 404) errors.push(`cannot list VolumeSnapshots: ${errorMessage(err)}`);
  }
  if (options.dryRun) return { found, errors };
  for (const kind of ['pod', 'pvc', 'volumesnapshot'] as const) {
    for (const o of found.filter((f) => f.kind === kind)) {
      try {
        if (kind === 'pod') await deletePod(kc, namespace, o.name);
        else if (kind === 'pvc') await deletePvc(kc, namespace, o.name);
        else await deleteVolumeSnapshot(kc, namespace, o.name);
      } catch (err) {
        errors.push(`cannot delete ${kind} ${namespace}/${o.name}: ${errorMessage(err)}`);
      }
    }
  }
  return { found, errors };
}
