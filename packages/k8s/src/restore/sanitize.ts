/**
 * Sanitising objects for restore, and mapping them to another namespace.
 *
 * Removed: what the API server, controllers or the scheduler fill in (uid, resourceVersion,
 * creationTimestamp, generation, managedFields, selfLink, status, ownerReferences, deletion
 * fields), cluster-assigned addresses and ports (Service clusterIP(s), nodePorts unless asked,
 * healthCheckNodePort), binding state (PV claimRef's uid/resourceVersion, PVC volumeName and
 * bind annotations), scheduling (pod nodeName), the token volumes admission injects into pods,
 * Job selectors with controller-uid labels, and controller bookkeeping annotations
 * (`deployment.kubernetes.io/revision`…). Kept: `kubectl.kubernetes.io/last-applied-configuration`
 * (later `kubectl apply` runs keep their three-way merge).
 */
import type { KubeObject } from '../types.js';

export interface SanitizeOptions {
  /** Keep Service nodePorts (they may collide in the target cluster). */
  preserveNodePorts?: boolean;
}

const METADATA_DROP = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'ownerReferences', 'deletionTimestamp', 'deletionGracePeriodSeconds'];

export const DROPPED_ANNOTATIONS = [
  'deployment.kubernetes.io/revision',
  'pv.kubernetes.io/bind-completed',
  'pv.kubernetes.io/bound-by-controller',
  'volume.beta.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/storage-provisioner',
  'volume.kubernetes.io/selected-node',
  'kubernetes.io/service-account.uid',
  'control-plane.alpha.kubernetes.io/leader',
];

const JOB_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function dropKeys(o: Obj | undefined, keys: readonly string[]): void {
  if (!o) return;
  for (const k of keys) delete o[k];
}

function cleanEmpty(meta: Obj, key: 'labels' | 'annotations'): void {
  const m = meta[key];
  if (isObj(m) && Object.keys(m).length === 0) delete meta[key];
}

function sanitizePodSpec(spec: Obj | undefined): void {
  if (!spec) return;
  delete spec.nodeName;
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as Obj[]) : undefined;
  const injected = new Set((volumes ?? []).filter((v) => typeof v.name === 'string' && /^kube-api-access-[a-z0-9]+$/.test(v.name)).map((v) => v.name as string));
  if (volumes && injected.size) {
    spec.volumes = volumes.filter((v) => !injected.has(v.name as string));
    if (!(spec.volumes as Obj[]).length) delete spec.volumes;
    for (const list of [spec.containers, spec.initContainers]) {
      for (const c of Array.isArray(list) ? (list as Obj[]) : []) {
        if (Array.isArray(c.volumeMounts)) {
          c.volumeMounts = (c.volumeMounts as Obj[]).filter((m) => !injected.has(m.name as string));
          if (!(c.volumeMounts as Obj[]).length) delete c.volumeMounts;
        }
      }
    }
  }
}

/** A deep copy of `obj` without the fields the cluster owns. */
export function sanitizeObject(input: KubeObject, options: SanitizeOptions = {}): KubeObject {
  const obj = structuredClone(input) as KubeObject & Obj;
  const meta = (obj.metadata ?? {}) as Obj;
  dropKeys(meta, METADATA_DROP);
  if (isObj(meta.annotations)) dropKeys(meta.annotations, DROPPED_ANNOTATIONS);
  delete obj.status;
  const spec = isObj(obj.spec) ? obj.spec : undefined;
  switch (obj.kind) {
    case 'Service': {
      if (spec) {
        if (spec.clusterIP !== 'None') {
          delete spec.clusterIP;
          delete spec.clusterIPs;
        } else {
          spec.clusterIPs = ['None'];
        }
        delete spec.healthCheckNodePort;
        if (!options.preserveNodePorts) for (const p of Array.isArray(spec.ports) ? (spec.ports as Obj[]) : []) delete p.nodePort;
      }
      break;
    }
    case 'PersistentVolumeClaim':
      if (spec) delete spec.volumeName;
      break;
    case 'PersistentVolume':
      if (spec && isObj(spec.claimRef)) {
        const ref = spec.claimRef;
        spec.claimRef = Object.fromEntries(['kind', 'apiVersion', 'namespace', 'name'].filter((k) => ref[k] !== undefined).map((k) => [k, ref[k]]));
      }
      break;
    case 'Pod':
      sanitizePodSpec(spec);
      break;
    case 'Job':
      if (spec && spec.manualSelector !== true) {
        delete spec.selector;
        const tmeta = isObj(spec.template) && isObj(spec.template.metadata) ? spec.template.metadata : undefined;
        if (tmeta && isObj(tmeta.labels)) {
          dropKeys(tmeta.labels, JOB_LABELS);
          cleanEmpty(tmeta, 'labels');
        }
      }
      if (isObj(meta.labels)) dropKeys(meta.labels, JOB_LABELS);
      break;
    case 'Namespace':
      if (isObj(meta.labels)) delete meta.labels['kubernetes.io/metadata.name'];
      if (spec) delete spec.finalizers;
      break;
    case 'ServiceAccount':
      delete obj.secrets;
      break;
    case 'CustomResourceDefinition':
      break;
  }
  if (spec && Object.keys(spec).length === 0 && obj.kind === 'Namespace') delete obj.spec;
  cleanEmpty(meta, 'labels');
  cleanEmpty(meta, 'annotations');
  obj.metadata = meta;
  return obj;
}

/**
 * Moves a sanitised object from namespace `from` to `to`: metadata.namespace, the Namespace
 * itself, ServiceAccount subjects of RoleBindings/ClusterRoleBindings, a PV's claimRef.
 */
export function mapNamespace(obj: KubeObject, from: string, to: string): KubeObject {
  if (from === to) return obj;
  const o = obj as KubeObject & Obj;
  if (o.metadata.namespace === from) o.metadata.namespace = to;
  if (o.kind === 'Namespace' && o.metadata.name === from) o.metadata.name = to;
  if (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') {
    for (const s of Array.isArray(o.subjects) ? (o.subjects as Obj[]) : []) if (s.kind === 'ServiceAccount' && s.namespace === from) s.namespace = to;
  }
  if (o.kind === 'PersistentVolume' && isObj(o.spec) && isObj(o.spec.claimRef) && o.spec.claimRef.namespace === from) o.spec.claimRef.namespace = to;
  return o;
}
