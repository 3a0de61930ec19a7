/**
 * Restore order: CRDs → Namespace → StorageClass → PV → PVC → ServiceAccount → Secret/ConfigMap →
 * RBAC → other configuration (quotas, limits, policies, ingresses) → Service → workloads →
 * custom resources. Each stage finishes before the next starts.
 */
export const STAGES = [
  'crds',
  'namespace',
  'storageclasses',
  'persistentvolumes',
  'persistentvolumeclaims',
  'serviceaccounts',
  'config',
  'rbac',
  'policy',
  'services',
  'workloads',
  'custom-resources',
] as const;
export type StageName = (typeof STAGES)[number];

const BY_KIND: Record<string, StageName> = {
  'apiextensions.k8s.io/CustomResourceDefinition': 'crds',
  '/Namespace': 'namespace',
  'storage.k8s.io/StorageClass': 'storageclasses',
  '/PersistentVolume': 'persistentvolumes',
  '/PersistentVolumeClaim': 'persistentvolumeclaims',
  '/ServiceAccount': 'serviceaccounts',
  '/Secret': 'config',
  '/ConfigMap': 'config',
  'rbac.authorization.k8s.io/Role': 'rbac',
  'rbac.authorization.k8s.io/RoleBinding': 'rbac',
  'rbac.authorization.k8s.io/ClusterRole': 'rbac',
  'rbac.authorization.k8s.io/ClusterRoleBinding': 'rbac',
  '/Service': 'services',
  'apps/Deployment': 'workloads',
  'apps/StatefulSet': 'workloads',
  'apps/DaemonSet': 'workloads',
  'apps/ReplicaSet': 'workloads',
  'batch/Job': 'workloads',
  'batch/CronJob': 'workloads',
  '/Pod': 'workloads',
  '/ReplicationController': 'workloads',
  'autoscaling/HorizontalPodAutoscaler': 'workloads',
};

/** API groups of Kubernetes itself; anything else is a custom resource. */
export function isBuiltinGroup(group: string): boolean {
  return group === '' || !group.includes('.') || group.endsWith('.k8s.io') && !group.startsWith('snapshot.storage.') || group === 'flowcontrol.apiserver.k8s.io';
}

export function stageOf(group: string, kind: string): StageName {
  return BY_KIND[`${group}/${kind}`] ?? (isBuiltinGroup(group) ? 'policy' : 'custom-resources');
}

export function stageIndex(stage: StageName): number {
  return STAGES.indexOf(stage);
}
