/**
 * Entity → backup target mapping: an entity's namespace comes from the Kubernetes plugin's
 * annotation `backstage.io/kubernetes-namespace`, its cluster from ours `kubectl-backup.io/cluster`
 * (optional: without it, the namespace's backups in any cluster belong to the entity).
 */
import type { Entity } from '@backstage/catalog-model';
import {
  BACKUP_CLUSTER_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  type BackupTarget,
} from '@kubectl-backup/plugin-backup-common';

export type TargetResolution =
  { configured: true; target: BackupTarget } | { configured: false; reason: string };

export function entityTarget(entity: Entity): TargetResolution {
  const annotations = entity.metadata.annotations ?? {};
  const namespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION]?.trim();
  if (!namespace) {
    return {
      configured: false,
      reason: `the entity has no ${KUBERNETES_NAMESPACE_ANNOTATION} annotation naming its namespace`,
    };
  }
  const cluster = annotations[BACKUP_CLUSTER_ANNOTATION]?.trim();
  return { configured: true, target: cluster ? { namespace, cluster } : { namespace } };
}

/** Whether a backup (or restore, audit entry) of `namespace` in `cluster` belongs to `target`. */
export function targetMatches(
  target: BackupTarget,
  namespace: string | undefined,
  cluster: string | undefined,
): boolean {
  return target.namespace === namespace && (!target.cluster || target.cluster === cluster);
}
