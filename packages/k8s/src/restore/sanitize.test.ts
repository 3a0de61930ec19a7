import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../types.js';
import { fullDiff, subsetDiff } from './diff-fields.js';
import { stageOf } from './order.js';
import { mapNamespace, sanitizeObject } from './sanitize.js';

const meta = { name: 'x', namespace: 'a', uid: 'u', resourceVersion: '7', creationTimestamp: 't', generation: 3, managedFields: [{}], ownerReferences: [{ apiVersion: 'v1', kind: 'K', name: 'o', uid: 'o' }] };

describe('sanitizeObject', () => {
  it('removes what the cluster owns and keeps last-applied-configuration', () => {
    const obj: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...meta, annotations: { 'deployment.kubernetes.io/revision': '4', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: { replicas: 2 },
      status: { readyReplicas: 2 },
    };
    expect(sanitizeObject(obj)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'a', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      spec: { replicas: 2 },
    });
    expect(obj.metadata.uid).toBe('u');
  });

  it('drops Service addresses and node ports unless asked, keeps headless services headless', () => {
    const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { clusterIP: '10.0.0.9', clusterIPs: ['10.0.0.9'], healthCheckNodePort: 31000, ports: [{ port: 80, nodePort: 30080 }] } };
    expect(sanitizeObject(svc).spec).toEqual({ ports: [{ port: 80 }] });
    expect(sanitizeObject(svc, { preserveNodePorts: true }).spec).toEqual({ ports: [{ port: 80, nodePort: 30080 }] });
    const headless: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'h' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [] } };
    expect(sanitizeObject(headless).spec).toEqual({ clusterIP: 'None', clusterIPs: ['None'], ports: [] });
  });

  it('unbinds PVCs and PVs, unschedules pods, drops injected token volumes and Job selectors', () => {
    const pvc: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'd', annotations: { 'pv.kubernetes.io/bind-completed': 'yes' } }, spec: { volumeName: 'pv-1', storageClassName: 'standard' } };
    expect(sanitizeObject(pvc)).toEqual({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'd' }, spec: { storageClassName: 'standard' } });
    const pv: KubeObject = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' }, spec: { claimRef: { kind: 'PersistentVolumeClaim', namespace: 'a', name: 'd', uid: 'u', resourceVersion: '1' } } };
    expect(mapNamespace(sanitizeObject(pv), 'a', 'b').spec).toEqual({ claimRef: { kind: 'PersistentVolumeClaim', namespace: 'b', name: 'd' } });
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { nodeName: 'n', containers: [{ name: 'c', volumeMounts: [{ name: 'kube-api-access-abcde', mountPath: '/var/run' }] }], volumes: [{ name: 'kube-api-access-abcde', projected: {} }] },
    };
    expect(sanitizeObject(pod).spec).toEqual({ containers: [{ name: 'c' }] });
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', labels: { 'controller-uid': 'u', app: 'x' } },
      spec: { selector: { matchLabels: { 'controller-uid': 'u' } }, template: { metadata: { labels: { 'controller-uid': 'u', 'job-name': 'j', app: 'x' } } } },
    };
    expect(sanitizeObject(job).spec).toEqual({ template: { metadata: { labels: { app: 'x' } } } });
  });

  it('maps namespaces: metadata, the Namespace, ServiceAccount subjects (others untouched)', () => {
    const rb: KubeObject = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb', namespace: 'a' },
      subjects: [
        { kind: 'ServiceAccount', name: 'sa', namespace: 'a' },
        { kind: 'ServiceAccount', name: 'other', namespace: 'kube-system' },
        { kind: 'User', name: 'alice' },
      ],
    };
    const mapped = mapNamespace(structuredClone(rb), 'a', 'b') as KubeObject & { subjects: unknown[] };
    expect(mapped.metadata.namespace).toBe('b');
    expect(mapped.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'sa', namespace: 'b' },
      { kind: 'ServiceAccount', name: 'other', namespace: 'kube-system' },
      { kind: 'User', name: 'alice' },
    ]);
    expect(mapNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, 'a', 'b').metadata.name).toBe('b');
  });
});

describe('field diffs and order', () => {
  it('ignores server defaults (fields only the live object has)', () => {
    expect(subsetDiff({ spec: { replicas: 2, template: { x: [1, 2] } } }, { spec: { replicas: 3, paused: false, template: { x: [1, 2] } } })).toEqual([{ path: 'spec.replicas', from: 3, to: 2 }]);
    expect(fullDiff({ a: 1, b: { c: 2 } }, { a: 1, b: { d: 3 } })).toEqual([{ path: 'b.c', from: 2 }, { path: 'b.d', to: 3 }]);
  });

  it('orders CRDs → namespace → storage → PVC → SA → config → RBAC → services → workloads → custom resources', () => {
    const order = ['apiextensions.k8s.io/CustomResourceDefinition', '/Namespace', 'storage.k8s.io/StorageClass', '/PersistentVolume', '/PersistentVolumeClaim', '/ServiceAccount', '/Secret', 'rbac.authorization.k8s.io/RoleBinding', 'networking.k8s.io/NetworkPolicy', '/Service', 'apps/Deployment', 'example.com/Widget'];
    const stages = order.map((k) => {
      const [g, kind] = k.split('/') as [string, string];
      return stageOf(g, kind);
    });
    expect(stages).toEqual(['crds', 'namespace', 'storageclasses', 'persistentvolumes', 'persistentvolumeclaims', 'serviceaccounts', 'config', 'rbac', 'policy', 'services', 'workloads', 'custom-resources']);
    expect(stageOf('snapshot.storage.k8s.io', 'VolumeSnapshot')).toBe('custom-resources');
  });
});
