/**
 * Objects a fresh cluster has: built-in namespaces, the node, the default StorageClass and
 * VolumeSnapshotClass, the CSI snapshot CRDs, the default RBAC roles, the `kubernetes` Service
 * and the namespace/bindings of the kubeconfig's limited users. Idempotent: only what is missing
 * is created (state survives restarts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject, ResourceType } from '../store-api.js';
import { defaultRbacObjects } from '../auth/rbac.js';
import { DEV_NAMESPACE } from '../auth/users.js';
import type { Store } from './store.js';
import { KUBERNETES_SERVICE_IP } from './defaults.js';

export const CSI_DRIVER = 'hostpath.csi.kubesim.io';
export const SNAPSHOT_CLASS = 'csi-hostpath-snapclass';

function typeOf(store: Store, o: KubeObject): ResourceType {
  const info = store.registry.byKind(o.apiVersion, o.kind);
  if (!info) throw new Error(`kube-sim bootstrap: no resource for ${o.apiVersion} ${o.kind}`);
  return { group: info.group, version: info.version, resource: info.resource };
}

function ensure(store: Store, o: KubeObject): void {
  const type = typeOf(store, o);
  if (!store.peek(type, o.metadata.namespace, o.metadata.name!)) store.create(type, o.metadata.namespace, o);
}

export function bootstrap(store: Store, options: { dataRoot: string; nodeName: string; kubeletVersion: string }): void {
  const crdDir = join(options.dataRoot, 'crds');
  for (const f of readdirSync(crdDir).filter((x) => x.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(crdDir, f), 'utf8'))) {
      const o = doc.toJSON() as KubeObject | null;
      if (o?.kind === 'CustomResourceDefinition') ensure(store, o);
    }
  }
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease', DEV_NAMESPACE]) {
    ensure(store, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  }
  for (const o of defaultRbacObjects()) ensure(store, o);
  ensure(store, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'dev-edit', namespace: DEV_NAMESPACE },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }],
  });
  ensure(store, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'viewer-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'viewer' }],
  });
  ensure(store, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: KUBERNETES_SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const nodeType = { group: '', version: 'v1', resource: 'nodes' };
  if (!store.peek(nodeType, undefined, options.nodeName)) {
    store.create(nodeType, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: options.nodeName,
        labels: {
          'kubernetes.io/hostname': options.nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'node-role.kubernetes.io/control-plane': '',
          'topology.hostpath.csi/node': options.nodeName,
        },
      },
      spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
    });
    const node = store.get(nodeType, undefined, options.nodeName)!;
    node.status = {
      capacity: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      allocatable: { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available', lastHeartbeatTime: now, lastTransitionTime: now },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      addresses: [
        { type: 'InternalIP', address: '172.18.0.2' },
        { type: 'Hostname', address: options.nodeName },
      ],
      nodeInfo: {
        machineID: 'kubesim',
        systemUUID: 'kubesim',
        bootID: 'kubesim',
        kernelVersion: '6.1.0',
        osImage: 'kube-sim',
        containerRuntimeVersion: 'containerd://1.7.0',
        kubeletVersion: options.kubeletVersion,
        kubeProxyVersion: options.kubeletVersion,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    };
    store.updateStatus(nodeType, undefined, node);
  }
  ensure(store, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: CSI_DRIVER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
    allowVolumeExpansion: true,
  });
  ensure(store, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: CSI_DRIVER },
    spec: { attachRequired: false, podInfoOnMount: true, volumeLifecycleModes: ['Persistent'], fsGroupPolicy: 'File', storageCapacity: false, requiresRepublish: false, seLinuxMount: false },
  });
  ensure(store, {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name: SNAPSHOT_CLASS, annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
    driver: CSI_DRIVER,
    deletionPolicy: 'Delete',
  });
}
