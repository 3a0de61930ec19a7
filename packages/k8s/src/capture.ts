/**
 * Capture of a namespace: every namespaced type discovery offers (paginated), minus the skip
 * list and filters; its cluster-scoped dependencies; the images its pods run, with digests.
 */
import type { KubeClient, ResourceLocation } from './client.js';
import { discoverResources, isPristineDefaultServiceAccount, ResourceFilter, skipReason, typeSkipReason, unknownFilterNames, type ResourceType } from './discovery.js';
import { K8sError } from './errors.js';
import { resourceDocName } from './layout.js';
import type { OperationLog } from './log.js';
import { mapLimit } from './rate-limit.js';
import { type KubeObject, type ObjectRef } from './types.js';

export interface CaptureOptions {
  namespace: string;
  includeResources?: readonly string[];
  excludeResources?: readonly string[];
  /** Label selector applied to namespaced objects (`app=web,tier!=db`). */
  labelSelector?: string;
  signal?: AbortSignal;
  /** Types listed at once (default 8). */
  concurrency?: number;
}

export interface CapturedObject {
  ref: ObjectRef;
  /** Document name in the snapshot. */
  path: string;
  object: KubeObject;
  /** For cluster-scoped objects: why they were captured (`namespace`, `bound to PVC data`…). */
  dependencyOf?: string;
}

export interface ImageRecord {
  namespace: string;
  pod: string;
  /** The workload that owns the pod (`Deployment/web`), else the pod (`Pod/x`). */
  owner: string;
  container: string;
  init?: boolean;
  image: string;
  /** As the kubelet reported it (`docker-pullable://repo@sha256:…`). */
  imageID?: string;
  /** `sha256:…` when the imageID holds one. */
  digest?: string;
}

export interface SkippedObject {
  kind: string;
  group: string;
  namespace?: string;
  name: string;
  reason: string;
}

export interface CaptureResult {
  objects: CapturedObject[];
  images: ImageRecord[];
  skipped: SkippedObject[];
  /** Types captured (listed successfully). */
  types: ResourceType[];
  /** Every type discovery returned (for later mapping). */
  allTypes: ResourceType[];
  /** Every pod of the namespace that was listed (hooks run in them). */
  pods: KubeObject[];
}

const CORE = (resource: string, namespaced: boolean): ResourceLocation => ({ group: '', version: 'v1', resource, namespaced });
export const T_NAMESPACES = CORE('namespaces', false);
export const T_PVS = CORE('persistentvolumes', false);
export const T_PVCS = CORE('persistentvolumeclaims', true);
export const T_PODS = CORE('pods', true);
export const T_STORAGECLASSES: ResourceLocation = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', namespaced: false };
export const T_CLUSTERROLES: ResourceLocation = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', namespaced: false };
export const T_CRDS: ResourceLocation = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };

/** API groups of Kubernetes itself (their types are never custom resources). */
const BUILTIN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'discovery.k8s.io',
  'coordination.k8s.io',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'scheduling.k8s.io',
  'node.k8s.io',
  'certificates.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
  'metrics.k8s.io',
  'internal.apiserver.k8s.io',
  'storagemigration.k8s.io',
]);

/** Types listed for image mapping even when the filters leave them out. */
const OWNER_CHAIN = new Set(['pods', 'replicasets', 'jobs']);

function refOf(t: ResourceType, obj: KubeObject): ObjectRef {
  return { group: t.group, version: t.version, resource: t.resource, kind: t.kind, namespace: t.namespaced ? obj.metadata.namespace : undefined, name: obj.metadata.name ?? '' };
}

export async function captureNamespace(client: KubeClient, log: OperationLog, options: CaptureOptions): Promise<CaptureResult> {
  const { namespace, signal } = options;
  const filter = new ResourceFilter(options.includeResources, options.excludeResources);
  log.progress('discover', 'discovering resource types');
  const allTypes = await log.timed('discovery', () => discoverResources(client, { signal, onWarning: (m) => log.warn('discovery.warning', m) }));
  for (const name of unknownFilterNames([...filter.includeList, ...filter.excludeList], allTypes)) {
    log.warn('filter.unknown', `resource filter "${name}" matches no resource type of the cluster`);
  }
  const candidates: Array<{ t: ResourceType; store: boolean }> = [];
  for (const t of allTypes.filter((t) => t.namespaced)) {
    const reason = typeSkipReason(t);
    if (reason) {
      log.debug('skip.type', `${t.resource}${t.group ? `.${t.group}` : ''}: ${reason}`, { group: t.group, resource: t.resource, reason });
      continue;
    }
    const wanted = filter.allows(t);
    if (!wanted) log.info('skip.type', `${t.resource}${t.group ? `.${t.group}` : ''}: left out by the resource filters`, { group: t.group, resource: t.resource });
    if (wanted || (t.group === '' && t.resource === 'pods') || (OWNER_CHAIN.has(t.resource) && (t.group === 'apps' || t.group === 'batch'))) {
      candidates.push({ t, store: wanted });
    }
  }

  const objects: CapturedObject[] = [];
  const skipped: SkippedObject[] = [];
  const listed = new Map<string, KubeObject>(); // uid → object (owner chains)
  const pods: KubeObject[] = [];
  const types: ResourceType[] = [];
  let done = 0;
  log.progress('capture', `listing ${candidates.length} resource types in namespace ${namespace}`, { done: 0, total: candidates.length });
  await mapLimit(candidates, options.concurrency ?? 8, async ({ t, store }) => {
    let items: KubeObject[];
    try {
      items = await client.listAll(t, namespace, { labelSelector: options.labelSelector, signal });
    } catch (err) {
      if (err instanceof K8sError && (err.code === 'EFORBIDDEN' || err.code === 'ENOTFOUND' || err.code === 'EAPI')) {
        if (store) log.warn('capture.forbidden', `${t.resource}${t.group ? `.${t.group}` : ''} not captured: ${err.message}`, { group: t.group, resource: t.resource, code: err.code });
        return;
      }
      throw err;
    } finally {
      log.progress('capture', `listed ${t.resource}`, { done: ++done, total: candidates.length });
    }
    if (store) types.push(t);
    const skippedHere = new Map<string, string[]>();
    for (const obj of items) {
      if (obj.metadata.uid) listed.set(obj.metadata.uid, obj);
      if (t.group === '' && t.resource === 'pods') pods.push(obj);
      if (!store) continue;
      const ref = refOf(t, obj);
      const reason = skipReason(obj);
      if (reason) {
        skipped.push({ kind: t.kind, group: t.group, namespace: ref.namespace, name: ref.name, reason });
        const owned = /^owned by (\S+) (\S+), which makes it again$/.exec(reason);
        const key = owned ? `owned by a ${owned[1]}, which makes it again` : reason;
        let names = skippedHere.get(key);
        if (!names) skippedHere.set(key, (names = []));
        names.push(owned ? `${ref.name} (${owned[1]} ${owned[2]})` : ref.name);
        continue;
      }
      objects.push({ ref, path: resourceDocName(ref), object: obj });
    }
    // One entry per type and reason with every name (not one per object): the log of an
    // unchanged namespace stays the same from one backup to the next, and costs nothing to store.
    for (const [reason, names] of skippedHere)
      log.debug('skip.objects', `${t.kind}: ${names.length} skipped (${reason}): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`, { kind: t.kind, group: t.group, reason, count: names.length, names });
    if (store) log.info('capture.type', `${t.resource}${t.group ? `.${t.group}` : ''}: ${items.length} listed`, { group: t.group, version: t.version, resource: t.resource, count: items.length });
  });

  if (!types.length && candidates.some((c) => c.store)) {
    throw new K8sError('EFORBIDDEN', `forbidden: cannot list any resource type in namespace "${namespace}" (context "${client.kc.getCurrentContext()}"); check with \`kubectl auth can-i list configmaps -n ${namespace}\``, {
      verb: 'list',
      namespace,
    });
  }
  const deps = await captureDependencies(client, log, { namespace, objects, filter, allTypes, signal });
  for (const d of deps) objects.push(d);
  const defaultSa = objects.find((o) => o.ref.kind === 'ServiceAccount' && o.ref.name === 'default');
  if (defaultSa && isPristineDefaultServiceAccount(defaultSa.object)) log.debug('capture.default-sa', 'the default ServiceAccount is unmodified (restore leaves the cluster-made one)');

  objects.sort((a, b) => a.path.localeCompare(b.path));
  const images = imagesOf(pods, listed);
  log.info('capture.done', `captured ${objects.length} objects, skipped ${skipped.length}, ${images.length} container images`, { objects: objects.length, skipped: skipped.length });
  return { objects, images, skipped, types, allTypes, pods };
}

/** The Namespace, bound PVs, StorageClasses of PVCs, CRDs of custom resources, ClusterRoles bound by RoleBindings. */
async function captureDependencies(
  client: KubeClient,
  log: OperationLog,
  ctx: { namespace: string; objects: CapturedObject[]; filter: ResourceFilter; allTypes: ResourceType[]; signal?: AbortSignal },
): Promise<CapturedObject[]> {
  const out: CapturedObject[] = [];
  const requested = new Set<string>();
  const typeOf = (loc: ResourceLocation) => ctx.allTypes.find((t) => t.group === loc.group && t.resource === loc.resource);
  const fetch = async (loc: ResourceLocation, name: string, why: string, quietNotFound = false): Promise<void> => {
    const t = typeOf(loc);
    if (!t) return;
    if (ctx.filter.excludes(t)) {
      log.info('skip.dependency', `${t.kind} ${name} (${why}) left out by --exclude-resources`);
      return;
    }
    const key = `${t.group}/${t.resource}/${name}`;
    if (requested.has(key)) return;
    requested.add(key);
    try {
      const obj = await client.get({ ...loc, version: t.version }, undefined, name, ctx.signal);
      const ref: ObjectRef = { group: t.group, version: t.version, resource: t.resource, kind: t.kind, name };
      out.push({ ref, path: resourceDocName(ref), object: { ...obj, apiVersion: obj.apiVersion ?? (t.group ? `${t.group}/${t.version}` : t.version), kind: obj.kind ?? t.kind }, dependencyOf: why });
      log.info('capture.dependency', `${t.kind} ${name}: ${why}`, { kind: t.kind, name, why });
    } catch (err) {
      if (err instanceof K8sError && err.code === 'ENOTFOUND') {
        if (!quietNotFound) log.warn('capture.dependency', `${t.kind} ${name} (${why}) does not exist`, { kind: t.kind, name });
        return;
      }
      if (err instanceof K8sError && err.code === 'EFORBIDDEN') {
        log.warn('capture.forbidden', `${t.kind} ${name} (${why}) not captured: ${err.message}`, { kind: t.kind, name });
        return;
      }
      throw err;
    }
  };

  await fetch(T_NAMESPACES, ctx.namespace, 'the namespace itself');
  const tasks: Array<() => Promise<void>> = [];
  for (const { object: o, ref } of ctx.objects) {
    if (ref.kind === 'PersistentVolumeClaim' && ref.group === '') {
      const spec = (o.spec ?? {}) as { volumeName?: string; storageClassName?: string };
      if (spec.volumeName) tasks.push(() => fetch(T_PVS, spec.volumeName!, `bound to PVC ${ref.name}`));
      if (spec.storageClassName) tasks.push(() => fetch(T_STORAGECLASSES, spec.storageClassName!, `storage class of PVC ${ref.name}`));
    }
    if (ref.kind === 'RoleBinding' && ref.group === 'rbac.authorization.k8s.io') {
      const roleRef = (o as { roleRef?: { kind?: string; name?: string } }).roleRef;
      if (roleRef?.kind === 'ClusterRole' && roleRef.name) tasks.push(() => fetch(T_CLUSTERROLES, roleRef.name!, `bound by RoleBinding ${ref.name}`));
    }
  }
  const crGroups = new Map<string, string>();
  for (const { ref } of ctx.objects) if (!BUILTIN_GROUPS.has(ref.group)) crGroups.set(`${ref.resource}.${ref.group}`, ref.kind);
  for (const [crd, kind] of crGroups) tasks.push(() => fetch(T_CRDS, crd, `defines ${kind}`, true));
  await mapLimit(tasks, 8, (task) => task());
  // bootstrap ClusterRoles (admin, edit, view, system:…) exist in every cluster: recorded, never restored
  return out;
}

function digestOf(imageID: string | undefined): string | undefined {
  const m = imageID ? /@(sha256:[0-9a-f]{64})/.exec(imageID) ?? /^(sha256:[0-9a-f]{64})$/.exec(imageID) : null;
  return m?.[1];
}

/** Each container's image and digest, named by the workload that owns the pod. */
export function imagesOf(pods: KubeObject[], byUid: Map<string, KubeObject>): ImageRecord[] {
  const out: ImageRecord[] = [];
  const seen = new Set<string>();
  for (const pod of pods) {
    let owner: KubeObject = pod;
    for (let depth = 0; depth < 4; depth++) {
      const ref = owner.metadata.ownerReferences?.find((o) => o.controller);
      if (!ref) break;
      const next = byUid.get(ref.uid);
      if (!next) {
        owner = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name } };
        break;
      }
      owner = next;
    }
    const status = (pod.status ?? {}) as { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
    const spec = (pod.spec ?? {}) as { containers?: Array<{ name: string; image?: string }>; initContainers?: Array<{ name: string; image?: string }> };
    const add = (containers: Array<{ name: string; image?: string }> | undefined, statuses: ContainerStatus[] | undefined, init: boolean) => {
      for (const c of containers ?? []) {
        const st = statuses?.find((s) => s.name === c.name);
        const rec: ImageRecord = {
          namespace: pod.metadata.namespace ?? '',
          pod: pod.metadata.name ?? '',
          owner: `${owner.kind}/${owner.metadata.name}`,
          container: c.name,
          ...(init ? { init: true } : {}),
          image: c.image ?? st?.image ?? '',
          ...(st?.imageID ? { imageID: st.imageID } : {}),
          ...(digestOf(st?.imageID) ? { digest: digestOf(st?.imageID) } : {}),
        };
        const key = `${rec.owner}|${rec.container}|${rec.image}|${rec.imageID ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(rec);
      }
    };
    add(spec.containers, status.containerStatuses, false);
    add(spec.initContainers, status.initContainerStatuses, true);
  }
  return out.sort((a, b) => a.owner.localeCompare(b.owner) || a.container.localeCompare(b.container));
}

interface ContainerStatus {
  name: string;
  image?: string;
  imageID?: string;
}
