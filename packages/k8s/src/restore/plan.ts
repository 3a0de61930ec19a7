/**
 * planRestore: what a restore would do, decided before anything changes — which objects, in
 * which order, sanitised and mapped to the target namespace, what exists already and what the
 * existing-resource policy makes of it (with a field-level diff), and which permissions the
 * caller lacks.
 */
import type { Repository } from '@kubectl-backup/engine';
import type { KubeClient, ResourceLocation } from '../client.js';
import { toClient, type ClusterTarget } from '../connection.js';
import { canI } from '../context.js';
import { isPristineDefaultServiceAccount, matchesLabelSelector, ResourceFilter } from '../discovery.js';
import { K8sError, type Permission } from '../errors.js';
import { volumeItemName } from '../layout.js';
import type { OperationLog } from '../log.js';
import type { BackupManifest } from '../manifest.js';
import { mapLimit } from '../rate-limit.js';
import { backupItems, findBackup, readBackupObjects, readManifest, type StoredObject } from '../records.js';
import type { KubeObject, ObjectRef } from '../types.js';
import { deepEqual, subsetDiff, type FieldChange } from './diff-fields.js';
import { stageIndex, stageOf, type StageName } from './order.js';
import { mapNamespace, sanitizeObject } from './sanitize.js';

export type ExistingPolicy = 'skip' | 'update' | 'recreate';
export type PlanAction = 'create' | 'update' | 'recreate' | 'skip' | 'unchanged';

export interface PlanOptions {
  /** Backup name or snapshot id. */
  backup: string;
  /** Default: the backup's namespace. */
  targetNamespace?: string;
  includeResources?: string[];
  excludeResources?: string[];
  labelSelector?: string;
  /** What to do with objects that exist already (default `skip`). */
  existing?: ExistingPolicy;
  preserveNodePorts?: boolean;
  /** Restore PVC data (default true). */
  volumes?: boolean;
  /** Check every permission the plan needs with SelfSubjectAccessReview (default true). */
  checkPermissions?: boolean;
  signal?: AbortSignal;
}

export interface PlanItem {
  stage: StageName;
  /** Document name in the backup. */
  path: string;
  /** The object in the target (namespace mapped). */
  ref: ObjectRef;
  location: ResourceLocation;
  /** Sanitised, mapped object to apply. */
  object: KubeObject;
  action: PlanAction;
  reason?: string;
  /** Whether the object exists in the target now (`unknown` when it could not be read). */
  exists: boolean | 'unknown';
  /** For `update`/`recreate`/`unchanged`: fields the restore changes. */
  changes?: FieldChange[];
}

export interface PlannedVolume {
  pvc: string;
  item: string;
  bytes: number;
}

export interface RestorePlan {
  backup: { name: string; snapshot: string; namespace: string; cluster?: string };
  targetNamespace: string;
  existing: ExistingPolicy;
  items: PlanItem[];
  /** Objects of the backup left out by filters. */
  filteredOut: number;
  volumes: PlannedVolume[];
  permissions: { checked: Permission[]; missing: Permission[] };
  warnings: string[];
  manifest: BackupManifest;
}

const CLUSTER_SHARED_REASON = 'cluster-scoped and shared: an existing one is left as it is';

function isBootstrapClusterRole(o: KubeObject): boolean {
  return o.metadata.labels?.['kubernetes.io/bootstrapping'] === 'rbac-defaults' || String(o.metadata.name).startsWith('system:');
}

/** Whether a cluster-scoped dependency goes with the objects chosen by an include list. */
function dependencyWanted(kind: string, chosenKinds: Set<string>, hasCustom: boolean): boolean {
  switch (kind) {
    case 'Namespace':
      return true;
    case 'PersistentVolume':
    case 'StorageClass':
      return chosenKinds.has('PersistentVolumeClaim');
    case 'ClusterRole':
      return chosenKinds.has('RoleBinding');
    case 'CustomResourceDefinition':
      return hasCustom;
    default:
      return false;
  }
}

export async function planRestore(repo: Repository, target: ClusterTarget, options: PlanOptions, log?: OperationLog): Promise<RestorePlan> {
  const client = toClient(target);
  const handle = await findBackup(repo, options.backup);
  const manifest = await readManifest(repo, handle.snapshot);
  const source = manifest.namespace || handle.namespace;
  const targetNs = options.targetNamespace || source;
  const existing = options.existing ?? 'skip';
  const filter = new ResourceFilter(options.includeResources, options.excludeResources);
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    log?.warn('plan.warning', m);
  };

  const stored = await readBackupObjects(repo, handle.snapshot);
  const typeOf = (s: StoredObject) => ({ group: s.ref.group, resource: s.ref.resource, kind: s.ref.kind });
  const namespaced = stored.filter((s) => s.ref.namespace !== undefined);
  const chosen = namespaced.filter((s) => filter.allows(typeOf(s)) && matchesLabelSelector(s.object.metadata.labels, options.labelSelector));
  const chosenKinds = new Set(chosen.map((s) => s.ref.kind));
  const hasCustom = chosen.some((s) => stageOf(s.ref.group, s.ref.kind) === 'custom-resources');
  const customGroups = new Set(chosen.filter((s) => stageOf(s.ref.group, s.ref.kind) === 'custom-resources').map((s) => `${s.ref.resource}.${s.ref.group}`));
  const includeGiven = filter.includeList.length > 0;
  const clusterScoped = stored.filter((s) => {
    if (s.ref.namespace !== undefined) return false;
    if (filter.excludes(typeOf(s))) return false;
    if (s.ref.kind === 'CustomResourceDefinition' && !customGroups.has(s.ref.name)) return false;
    if (!includeGiven) return s.ref.kind !== 'PersistentVolume' || chosen.some((c) => c.ref.kind === 'PersistentVolumeClaim' && (c.object.spec as { volumeName?: string })?.volumeName === s.ref.name);
    return filter.allows(typeOf(s)) || dependencyWanted(s.ref.kind, chosenKinds, hasCustom);
  });
  const selected = [...clusterScoped, ...chosen];
  const filteredOut = stored.length - selected.length;

  const items: PlanItem[] = selected.map((s) => {
    const object = mapNamespace(sanitizeObject(s.object, { preserveNodePorts: options.preserveNodePorts }), source, targetNs);
    const ref: ObjectRef = { ...s.ref, kind: s.object.kind, namespace: s.ref.namespace === undefined ? undefined : targetNs, name: object.metadata.name ?? s.ref.name };
    return {
      stage: stageOf(s.ref.group, s.object.kind),
      path: s.path,
      ref,
      location: { group: s.ref.group, version: s.ref.version, resource: s.ref.resource, namespaced: s.ref.namespace !== undefined },
      object,
      action: 'create' as PlanAction,
      exists: false,
    };
  });
  if (!items.some((i) => i.ref.kind === 'Namespace') && !filter.excludes({ group: '', resource: 'namespaces', kind: 'Namespace' })) {
    // a backup without its Namespace object (e.g. made by a user who cannot read namespaces)
    items.push({
      stage: 'namespace',
      path: '',
      ref: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', name: targetNs },
      location: { group: '', version: 'v1', resource: 'namespaces', namespaced: false },
      object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: targetNs } },
      action: 'create',
      exists: false,
    });
  }
  items.sort((a, b) => stageIndex(a.stage) - stageIndex(b.stage) || a.path.localeCompare(b.path));

  await decideActions(client, items, { targetNs, existing, signal: options.signal, warn });

  const volumes: PlannedVolume[] = [];
  if (options.volumes !== false) {
    const streamItems = await backupItems(repo, handle.snapshot);
    for (const it of items) {
      if (it.ref.kind !== 'PersistentVolumeClaim' || it.action === 'skip' || it.action === 'unchanged') continue;
      const name = volumeItemName(it.ref.name);
      const found = streamItems.find((i) => i.name === name);
      if (found) volumes.push({ pvc: it.ref.name, item: name, bytes: found.size });
    }
  }

  const permissions = options.checkPermissions === false ? { checked: [], missing: [] } : await checkPermissions(client, items, options.signal);
  return {
    backup: { name: handle.name, snapshot: handle.snapshot.id, namespace: source, cluster: manifest.cluster?.name },
    targetNamespace: targetNs,
    existing,
    items,
    filteredOut,
    volumes,
    permissions,
    warnings,
    manifest,
  };
}

async function decideActions(
  client: KubeClient,
  items: PlanItem[],
  ctx: { targetNs: string; existing: ExistingPolicy; signal?: AbortSignal; warn(m: string): void },
): Promise<void> {
  // live objects: one list per namespaced type, one get per cluster-scoped object
  const live = new Map<string, KubeObject | null>(); // key → object, null: forbidden
  const key = (l: ResourceLocation, ns: string | undefined, name: string) => `${l.group}/${l.resource}/${ns ?? ''}/${name}`;
  const types = new Map<string, PlanItem[]>();
  for (const it of items) {
    if (it.location.namespaced) {
      const k = `${it.location.group}/${it.location.version}/${it.location.resource}`;
      types.set(k, [...(types.get(k) ?? []), it]);
    }
  }
  const unreadable = new Set<string>();
  await mapLimit([...types.values()], 8, async (group) => {
    const loc = group[0]!.location;
    try {
      for (const o of await client.listAll(loc, ctx.targetNs, { signal: ctx.signal })) live.set(key(loc, ctx.targetNs, o.metadata.name ?? ''), o);
    } catch (err) {
      if (err instanceof K8sError && (err.code === 'EFORBIDDEN' || err.code === 'ENOTFOUND')) {
        unreadable.add(`${loc.group}/${loc.resource}`);
        return;
      }
      throw err;
    }
  });
  await mapLimit(
    items.filter((i) => !i.location.namespaced),
    8,
    async (it) => {
      try {
        const o = await client.getOptional(it.location, undefined, it.ref.name, ctx.signal);
        if (o) live.set(key(it.location, undefined, it.ref.name), o);
      } catch (err) {
        if (err instanceof K8sError && err.code === 'EFORBIDDEN') {
          live.set(key(it.location, undefined, it.ref.name), null);
          return;
        }
        throw err;
      }
    },
  );

  for (const it of items) {
    const k = key(it.location, it.ref.namespace, it.ref.name);
    const current = live.get(k);
    const cannotRead = current === null || (it.location.namespaced && unreadable.has(`${it.location.group}/${it.location.resource}`));
    if (cannotRead) {
      it.exists = 'unknown';
      if (it.ref.kind === 'Namespace') {
        it.action = 'skip';
        it.reason = 'the namespace cannot be read with these credentials; assumed to exist';
      } else if (!it.location.namespaced) {
        it.action = 'skip';
        it.reason = `cannot read ${it.ref.kind} ${it.ref.name} with these credentials; left as it is`;
        ctx.warn(`${it.ref.kind} ${it.ref.name}: ${it.reason}`);
      }
      continue;
    }
    it.exists = !!current;
    if (it.ref.kind === 'Namespace' && (current?.status as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw new K8sError('ECONFLICT', `namespace "${it.ref.name}" is being deleted; wait until it is gone, or restore into another namespace`, { namespace: it.ref.name });
    }
    // objects the restore leaves alone whatever the policy
    if (it.ref.kind === 'ClusterRole' && isBootstrapClusterRole(it.object)) {
      it.action = 'skip';
      it.reason = 'built-in ClusterRole of every cluster';
      continue;
    }
    if (it.ref.kind === 'ServiceAccount' && it.ref.name === 'default' && isPristineDefaultServiceAccount(it.object)) {
      it.action = 'skip';
      it.reason = 'the default ServiceAccount is made by the cluster in every namespace';
      continue;
    }
    if (it.ref.kind === 'PersistentVolume' && !current) {
      const spec = (it.object.spec ?? {}) as { persistentVolumeReclaimPolicy?: string };
      if (it.object.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] && spec.persistentVolumeReclaimPolicy !== 'Retain') {
        it.action = 'skip';
        it.reason = 'dynamically provisioned volume: the restored PVC gets a new one (its data comes from the backup)';
        continue;
      }
    }
    if (!current) {
      it.action = 'create';
      continue;
    }
    const changes = subsetDiff(it.object, current).filter((c) => !c.path.startsWith('metadata.namespace'));
    it.changes = changes;
    if (!it.location.namespaced) {
      it.action = deepEqual(changes, []) ? 'unchanged' : 'skip';
      it.reason = it.action === 'skip' ? CLUSTER_SHARED_REASON : 'exists';
      continue;
    }
    if (it.ref.kind === 'ServiceAccount' && it.ref.name === 'default') {
      it.action = changes.length ? 'update' : 'unchanged';
      it.reason = 'the default ServiceAccount is made by the cluster: restored fields are applied to it';
      continue;
    }
    if (!changes.length) {
      it.action = 'unchanged';
      it.reason = 'exists with the backed-up content';
      continue;
    }
    it.action = ctx.existing === 'skip' ? 'skip' : ctx.existing;
    it.reason = ctx.existing === 'skip' ? 'exists (existing: skip)' : `exists and differs in ${changes.length} field(s)`;
  }
}

/** The permissions the plan needs, checked with SelfSubjectAccessReview. */
export async function checkPermissions(client: KubeClient, items: PlanItem[], signal?: AbortSignal): Promise<{ checked: Permission[]; missing: Permission[] }> {
  const needed = new Map<string, Permission>();
  const need = (verb: string, it: PlanItem) => {
    const p: Permission = { verb, group: it.location.group, resource: it.location.resource, ...(it.location.namespaced ? { namespace: it.ref.namespace } : {}) };
    needed.set(`${p.verb} ${p.group} ${p.resource} ${p.namespace ?? ''}`, p);
  };
  for (const it of items) {
    if (it.exists === 'unknown' && it.action !== 'skip') {
      need('list', it);
      need('get', it);
    }
    if (it.action === 'create') need('create', it);
    if (it.action === 'update') need('patch', it);
    if (it.action === 'recreate') {
      need('delete', it);
      need('create', it);
    }
  }
  const checked = [...needed.values()];
  const answers = await mapLimit(checked, 8, (p) => canI(client, p, signal));
  return { checked, missing: checked.filter((_, i) => !answers[i]) };
}
