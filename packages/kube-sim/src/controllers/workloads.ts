/**
 * Workload controllers: Deployment → ReplicaSet → Pods, StatefulSet → Pods + PVCs, DaemonSet
 * (one node), Job → Pods. Their status fields follow what `kubectl rollout status` and
 * `kubectl wait` read.
 */
import type { ChangeEvent, KubeObject, ObjectMeta, ObjectStore, ResourceType } from '../store-api.js';
import {
  OwnerIndex,
  QueueController,
  T,
  clone,
  controllerOf,
  controllerRef,
  ignoreNotFound,
  isPodActive,
  isPodReady,
  isType,
  keyOf,
  nowIso,
  splitKey,
  sameJson,
  templateHash,
} from './util.js';

interface PodTemplate {
  metadata?: ObjectMeta;
  spec?: Record<string, unknown> & { volumes?: Array<Record<string, unknown> & { name: string }> };
}

interface WorkloadSpec {
  replicas?: number;
  paused?: boolean;
  selector?: { matchLabels?: Record<string, string> };
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } };
  podManagementPolicy?: string;
  serviceName?: string;
  volumeClaimTemplates?: KubeObject[];
  persistentVolumeClaimRetentionPolicy?: { whenDeleted?: string; whenScaled?: string };
  completions?: number | null;
  parallelism?: number | null;
  suspend?: boolean;
  backoffLimit?: number;
}

type Status = Record<string, unknown>;

function specOf(obj: KubeObject): WorkloadSpec {
  return (obj.spec ?? {}) as WorkloadSpec;
}

function statusOf(obj: KubeObject): Status {
  return (obj.status ?? {}) as Status;
}

/** Removes zero counters, as Go's `omitempty` does. */
function omitZero(status: Status, keep: string[] = []): Status {
  const out: Status = {};
  for (const [k, v] of Object.entries(status)) {
    if (v === undefined || (v === 0 && !keep.includes(k))) continue;
    out[k] = v;
  }
  return out;
}

/**
 * A new pod from a (stored, read-only) template. Only its top level is copied: callers replace
 * fields of `spec`, never change them in place, and the store copies what it is given.
 */
function newPod(owner: KubeObject, template: PodTemplate, extra: { name?: string; labels?: Record<string, string> }): KubeObject {
  const meta = template.metadata ?? {};
  const metadata: ObjectMeta = {
    labels: { ...(meta.labels ?? {}), ...(extra.labels ?? {}) },
    ownerReferences: [controllerRef(owner)],
  };
  if (meta.annotations && Object.keys(meta.annotations).length) metadata.annotations = { ...meta.annotations };
  if (extra.name) metadata.name = extra.name;
  else metadata.generateName = `${owner.metadata.name}-`;
  metadata.namespace = owner.metadata.namespace;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { ...(template.spec ?? {}) } };
}

/** Base for controllers that own pods (or another child type) indexed by owner uid. */
abstract class OwningController extends QueueController {
  protected readonly children = new OwnerIndex();
  protected abstract readonly ownType: ResourceType;
  protected abstract readonly ownKind: string;
  protected readonly childType: ResourceType = T.pods;

  protected resync(): void {
    for (const child of this.ctx.store.peekList(this.childType)) {
      if (controllerOf(child)?.kind === this.ownKind) this.children.upsert(child);
    }
    for (const obj of this.ctx.store.peekList(this.ownType)) this.enqueue(keyOf(obj));
  }

  protected onEvent(event: ChangeEvent): void {
    if (isType(event.resource, this.ownType)) {
      if (event.type !== 'DELETED') this.enqueue(keyOf(event.object));
    } else if (isType(event.resource, this.childType)) {
      const owner = controllerOf(event.object);
      // index only this controller's children (pods of other owners are someone else's)
      if (owner?.kind === this.ownKind) this.children.onEvent(event);
      else this.children.remove(event.object);
      if (owner?.kind === this.ownKind && event.object.metadata.namespace) {
        this.enqueue(`${event.object.metadata.namespace}/${owner.name}`);
      }
    } else {
      this.onOtherEvent(event);
    }
  }

  protected onOtherEvent(_event: ChangeEvent): void {}

  protected createChild(obj: KubeObject, type: ResourceType = this.childType): KubeObject {
    const created = this.ctx.store.create(type, obj.metadata.namespace, obj);
    if (isType(type, this.childType)) this.children.upsert(created);
    return created;
  }

  protected deleteChild(obj: KubeObject, type: ResourceType = this.childType): void {
    const result = ignoreNotFound(() =>
      this.ctx.store.delete(type, obj.metadata.namespace, obj.metadata.name ?? '', { propagationPolicy: 'Background' }),
    );
    if (isType(type, this.childType)) {
      if (result?.metadata.deletionTimestamp) this.children.upsert(result);
      else this.children.remove(obj);
    }
  }

  protected writeStatus(obj: KubeObject, status: Status): void {
    if (sameJson(obj.status ?? {}, status)) return;
    // a status write reads only metadata and status: no copy of the rest
    this.ctx.store.updateStatus(this.ownType, obj.metadata.namespace, { ...obj, status });
  }

  /** The live object (the stored one: read-only), or undefined when it is gone or being deleted. */
  protected live(key: string): KubeObject | undefined {
    const { namespace, name } = splitKey(key);
    const obj = this.ctx.store.peek(this.ownType, namespace, name);
    if (!obj || obj.metadata.deletionTimestamp) return undefined;
    return obj;
  }
}

// ---------------------------------------------------------------------------------------------
// ReplicaSet

export class ReplicaSetController extends OwningController {
  readonly name = 'replicaset';
  protected readonly ownType = T.replicasets;
  protected readonly ownKind = 'ReplicaSet';

  protected reconcile(key: string): void {
    const rs = this.live(key);
    if (!rs) return;
    const spec = specOf(rs);
    const desired = spec.replicas ?? 1;
    const pods = this.children.children(rs.metadata.uid);
    const active = pods.filter(isPodActive);
    if (active.length < desired) {
      for (let i = active.length; i < desired; i++) {
        const pod = newPod(rs, spec.template ?? {}, {});
        active.push(this.createChild(pod));
      }
    } else if (active.length > desired) {
      // delete unready and younger pods first
      const victims = [...active]
        .sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || cmpAge(b, a))
        .slice(0, active.length - desired);
      for (const v of victims) this.deleteChild(v);
      const gone = new Set(victims.map(keyOf));
      active.splice(0, active.length, ...active.filter((p) => !gone.has(keyOf(p))));
    }
    const labels = spec.selector?.matchLabels ?? {};
    const ready = active.filter(isPodReady).length;
    this.writeStatus(
      rs,
      omitZero(
        {
          replicas: active.length,
          fullyLabeledReplicas: active.filter((p) =>
            Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v),
          ).length,
          readyReplicas: ready,
          availableReplicas: ready,
          observedGeneration: rs.metadata.generation ?? 1,
        },
        ['replicas'],
      ),
    );
  }
}

function cmpAge(a: KubeObject, b: KubeObject): number {
  return (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
}

// ---------------------------------------------------------------------------------------------
// Deployment

function intOrPercent(v: number | string | undefined, total: number, roundUp: boolean, dflt: string): number {
  const value = v ?? dflt;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const n = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(n) : Math.floor(n);
}

export class DeploymentController extends OwningController {
  readonly name = 'deployment';
  protected readonly ownType = T.deployments;
  protected readonly ownKind = 'Deployment';
  protected override readonly childType = T.replicasets;

  protected reconcile(key: string): void {
    let deploy = this.live(key);
    if (!deploy) return;
    const spec = specOf(deploy);
    const desired = spec.replicas ?? 1;
    const template = spec.template ?? {};
    const hash = templateHash(template);
    const owned = this.children.children(deploy.metadata.uid);
    const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    let newRs = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash && !rs.metadata.deletionTimestamp);
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    const maxSurge = intOrPercent(spec.strategy?.rollingUpdate?.maxSurge, desired, true, '25%');

    if (!newRs && !spec.paused) {
      const matchLabels = { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash };
      // the store copies what it is given: the template's parts can be shared
      const podTemplate: PodTemplate = {
        ...template,
        metadata: { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } },
      };
      const rs: KubeObject = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${deploy.metadata.name}-${hash}`,
          namespace: deploy.metadata.namespace,
          labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
          annotations: {
            'deployment.kubernetes.io/desired-replicas': String(desired),
            'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
            'deployment.kubernetes.io/revision': String(maxRevision + 1),
          },
          ownerReferences: [controllerRef(deploy)],
        },
        spec: {
          replicas: desired,
          selector: { ...(spec.selector ?? {}), matchLabels },
          template: podTemplate,
        },
      };
      try {
        newRs = this.createChild(rs);
      } catch (err) {
        // a leftover with the same name (e.g. orphaned): adopt it on the next pass
        const existing = this.ctx.store.peek(T.replicasets, deploy.metadata.namespace, rs.metadata.name ?? '');
        if (!existing) throw err;
        if (!controllerOf(existing)) {
          const adopted = clone(existing);
          adopted.metadata.ownerReferences = [...(adopted.metadata.ownerReferences ?? []), controllerRef(deploy)];
          newRs = this.ctx.store.update(T.replicasets, adopted.metadata.namespace, adopted);
          this.children.upsert(newRs);
        } else throw err;
      }
    }

    if (newRs && !spec.paused) {
      const replicas = specOf(newRs).replicas ?? 1;
      const annotations = newRs.metadata.annotations ?? {};
      const revision = revisionOf(newRs) || maxRevision + 1;
      const needRevision = revision <= Math.max(0, ...owned.filter((r) => r !== newRs).map(revisionOf));
      if (replicas !== desired || annotations['deployment.kubernetes.io/desired-replicas'] !== String(desired) || needRevision) {
        const updated: KubeObject = {
          ...newRs,
          metadata: {
            ...newRs.metadata,
            annotations: {
              ...annotations,
              'deployment.kubernetes.io/desired-replicas': String(desired),
              'deployment.kubernetes.io/max-replicas': String(desired + maxSurge),
              'deployment.kubernetes.io/revision': String(needRevision ? maxRevision + 1 : revision),
            },
          },
          spec: { ...specOf(newRs), replicas: desired },
        };
        newRs = this.ctx.store.update(T.replicasets, updated.metadata.namespace, updated);
        this.children.upsert(newRs);
      }
      for (const old of owned) {
        if (old.metadata.uid === newRs.metadata.uid || (specOf(old).replicas ?? 1) === 0) continue;
        const updated: KubeObject = { ...old, spec: { ...specOf(old), replicas: 0 } };
        this.children.upsert(this.ctx.store.update(T.replicasets, updated.metadata.namespace, updated));
      }
      // old ReplicaSets beyond revisionHistoryLimit (default 10) go away once scaled down
      const limit = (deploy.spec as { revisionHistoryLimit?: number } | undefined)?.revisionHistoryLimit ?? 10;
      const idle = owned
        .filter((rs) => rs.metadata.uid !== newRs?.metadata.uid && (specOf(rs).replicas ?? 1) === 0 && !Number(statusOf(rs).replicas ?? 0))
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) this.deleteChild(rs);
      // the deployment carries the revision of its newest ReplicaSet
      const rev = newRs.metadata.annotations?.['deployment.kubernetes.io/revision'];
      if (rev && deploy.metadata.annotations?.['deployment.kubernetes.io/revision'] !== rev) {
        const annotations = { ...(deploy.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': rev };
        deploy = this.ctx.store.update(T.deployments, deploy.metadata.namespace, { ...deploy, metadata: { ...deploy.metadata, annotations } });
      }
    }

    // wait for the new ReplicaSet's first status rather than writing a status it will change
    if (newRs && statusOf(newRs).observedGeneration === undefined && !spec.paused) return;
    const all = this.children.children(deploy.metadata.uid);
    const sum = (rsList: KubeObject[], field: string) =>
      rsList.reduce((n, rs) => n + Number(statusOf(rs)[field] ?? 0), 0);
    const replicas = sum(all, 'replicas');
    const updatedReplicas = newRs ? Number(statusOf(newRs).replicas ?? 0) : 0;
    const readyReplicas = sum(all, 'readyReplicas');
    const availableReplicas = sum(all, 'availableReplicas');
    const maxUnavailable = intOrPercent(spec.strategy?.rollingUpdate?.maxUnavailable, desired, false, '25%');
    const previous = statusOf(deploy);
    const prevConditions = (previous.conditions ?? []) as Array<Record<string, string>>;
    const now = nowIso();
    const condition = (type: string, status: string, reason: string, message: string) => {
      const prev = prevConditions.find((c) => c.type === type);
      const same = prev && prev.status === status && prev.reason === reason && prev.message === message;
      return {
        type,
        status,
        lastUpdateTime: same ? prev.lastUpdateTime : now,
        lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const available = availableReplicas >= desired - maxUnavailable;
    const newRsName = newRs?.metadata.name ?? '';
    const complete =
      !!newRs && updatedReplicas === desired && replicas === desired && availableReplicas === desired;
    const conditions = [
      available
        ? condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : condition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      spec.paused
        ? condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused')
        : complete
          ? condition('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${newRsName}" has successfully progressed.`)
          : condition('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${newRsName}" is progressing.`),
    ];
    const status = omitZero({
      observedGeneration: deploy.metadata.generation ?? 1,
      replicas,
      updatedReplicas,
      readyReplicas,
      availableReplicas,
      unavailableReplicas: Math.max(0, replicas - availableReplicas, desired - availableReplicas),
      terminatingReplicas: undefined,
      conditions,
    });
    this.writeStatus(deploy, status);
  }
}

/** A ControllerRevision per template (`kubectl rollout history` reads them); best effort. */
function ensureRevision(store: ObjectStore, owner: KubeObject, name: string, template: PodTemplate): void {
  const ns = owner.metadata.namespace;
  try {
    if (store.peek(T.controllerrevisions, ns, name)) return;
    const existing = store
      .peekList(T.controllerrevisions, ns)
      .filter((r) => controllerOf(r)?.uid === owner.metadata.uid)
      .map((r) => Number(r.revision ?? 0));
    store.create(T.controllerrevisions, ns, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name,
        namespace: ns,
        labels: { ...(specOf(owner).selector?.matchLabels ?? {}), 'controller.kubernetes.io/hash': name.slice(name.lastIndexOf('-') + 1) },
        ownerReferences: [controllerRef(owner)],
      },
      data: { spec: { template: { ...template, $patch: 'replace' } } },
      revision: Math.max(0, ...existing) + 1,
    });
  } catch {
    // revisions are informative only
  }
}

// ---------------------------------------------------------------------------------------------
// StatefulSet

export class StatefulSetController extends OwningController {
  readonly name = 'statefulset';
  protected readonly ownType = T.statefulsets;
  protected readonly ownKind = 'StatefulSet';

  protected reconcile(key: string): void {
    const sts = this.live(key);
    if (!sts) return;
    const store = this.ctx.store;
    const ns = sts.metadata.namespace;
    const stsName = sts.metadata.name ?? '';
    const spec = specOf(sts);
    const desired = spec.replicas ?? 1;
    const template = spec.template ?? {};
    const updateRevision = `${stsName}-${templateHash(template)}`;
    ensureRevision(this.ctx.store, sts, updateRevision, template);
    const ordered = (spec.podManagementPolicy ?? 'OrderedReady') === 'OrderedReady';
    const byOrdinal = new Map<number, KubeObject>();
    for (const pod of this.children.children(sts.metadata.uid)) {
      const m = /-(\d+)$/.exec(pod.metadata.name ?? '');
      if (m && pod.metadata.name === `${stsName}-${m[1]}`) byOrdinal.set(Number(m[1]), pod);
    }

    // PVCs and pods 0..desired-1
    for (let i = 0; i < desired; i++) {
      const pod = byOrdinal.get(i);
      if (pod) {
        if (pod.metadata.deletionTimestamp) {
          if (ordered) break;
          continue;
        }
        if (!isPodActive(pod)) {
          this.deleteChild(pod);
          if (ordered) break;
          continue;
        }
        if (ordered && !isPodReady(pod)) break;
        continue;
      }
      for (const claim of this.claimsFor(sts, i)) {
        if (!store.peek(T.pvcs, ns, claim.metadata.name ?? '')) {
          try {
            store.create(T.pvcs, ns, claim);
          } catch (err) {
            if (!store.peek(T.pvcs, ns, claim.metadata.name ?? '')) throw err;
          }
        }
      }
      const created = this.createChild(this.podFor(sts, i, updateRevision));
      byOrdinal.set(i, created);
      if (ordered) break;
    }
    // scale down from the highest ordinal
    const extra = [...byOrdinal.keys()].filter((i) => i >= desired).sort((a, b) => b - a);
    for (const i of ordered ? extra.slice(0, 1) : extra) {
      const pod = byOrdinal.get(i);
      if (pod && !pod.metadata.deletionTimestamp) this.deleteChild(pod);
      if (spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') {
        for (const claim of this.claimsFor(sts, i)) {
          ignoreNotFound(() => store.delete(T.pvcs, ns, claim.metadata.name ?? ''));
        }
      }
    }

    // rolling update: replace outdated pods from the highest ordinal, one at a time
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    const current = [...byOrdinal.entries()].filter(([i]) => i < desired);
    const allReady = current.length === desired && current.every(([, p]) => isPodReady(p));
    if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && allReady) {
      const outdated = current
        .filter(([i, p]) => i >= partition && p.metadata.labels?.['controller-revision-hash'] !== updateRevision)
        .sort(([a], [b]) => b - a);
      const victim = outdated[0]?.[1];
      if (victim) this.deleteChild(victim);
    }

    const pods = [...byOrdinal.values()].filter((p) => !p.metadata.deletionTimestamp);
    const updated = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === updateRevision);
    const prev = statusOf(sts);
    let currentRevision = (prev.currentRevision as string | undefined) ?? updateRevision;
    const ready = pods.filter(isPodReady).length;
    if (updated.length === desired && pods.length === desired && ready === desired) currentRevision = updateRevision;
    const currentReplicas = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === currentRevision).length;
    this.writeStatus(
      sts,
      omitZero(
        {
          observedGeneration: sts.metadata.generation ?? 1,
          replicas: pods.length,
          readyReplicas: ready,
          currentReplicas,
          updatedReplicas: updated.length,
          currentRevision,
          updateRevision,
          collisionCount: 0,
          availableReplicas: ready,
        },
        ['replicas', 'collisionCount', 'availableReplicas'],
      ),
    );
  }

  private claimsFor(sts: KubeObject, ordinal: number): KubeObject[] {
    const spec = specOf(sts);
    const stsName = sts.metadata.name ?? '';
    return (spec.volumeClaimTemplates ?? []).map((tpl) => {
      const metadata: ObjectMeta = {
        name: `${tpl.metadata.name}-${stsName}-${ordinal}`,
        namespace: sts.metadata.namespace,
        labels: { ...(tpl.metadata.labels ?? {}), ...(spec.selector?.matchLabels ?? {}) },
      };
      if (tpl.metadata.annotations) metadata.annotations = clone(tpl.metadata.annotations);
      if (spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete') {
        metadata.ownerReferences = [controllerRef(sts)];
      }
      return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec: clone(tpl.spec ?? {}) };
    });
  }

  private podFor(sts: KubeObject, ordinal: number, revision: string): KubeObject {
    const spec = specOf(sts);
    const stsName = sts.metadata.name ?? '';
    const name = `${stsName}-${ordinal}`;
    const pod = newPod(sts, spec.template ?? {}, {
      name,
      labels: {
        'controller-revision-hash': revision,
        'statefulset.kubernetes.io/pod-name': name,
        'apps.kubernetes.io/pod-index': String(ordinal),
      },
    });
    const podSpec = pod.spec as NonNullable<PodTemplate['spec']> & { hostname?: string; subdomain?: string };
    podSpec.hostname = name;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    const volumes = (podSpec.volumes ?? []).filter(
      (v) => !(spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === v.name),
    );
    for (const tpl of spec.volumeClaimTemplates ?? []) {
      volumes.push({ name: tpl.metadata.name ?? '', persistentVolumeClaim: { claimName: `${tpl.metadata.name}-${stsName}-${ordinal}` } });
    }
    if (volumes.length) podSpec.volumes = volumes;
    return pod;
  }
}

// ---------------------------------------------------------------------------------------------
// DaemonSet

export class DaemonSetController extends OwningController {
  readonly name = 'daemonset';
  protected readonly ownType = T.daemonsets;
  protected readonly ownKind = 'DaemonSet';

  protected reconcile(key: string): void {
    const ds = this.live(key);
    if (!ds) return;
    const spec = specOf(ds);
    const hash = templateHash(spec.template ?? {});
    ensureRevision(this.ctx.store, ds, `${ds.metadata.name}-${hash}`, spec.template ?? {});
    const pods = this.children.children(ds.metadata.uid).filter((p) => !p.metadata.deletionTimestamp);
    const current = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash && isPodActive(p));
    for (const p of pods) if (!current.includes(p)) this.deleteChild(p);
    if (current.length === 0) {
      const pod = newPod(ds, spec.template ?? {}, {
        labels: { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) },
      });
      const podSpec = pod.spec as Record<string, unknown>;
      podSpec.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [this.ctx.nodeName] }] }],
          },
        },
      };
      current.push(this.createChild(pod));
    }
    for (const extra of current.slice(1)) this.deleteChild(extra);
    const ready = current.slice(0, 1).filter(isPodReady).length;
    this.writeStatus(
      ds,
      omitZero(
        {
          currentNumberScheduled: 1,
          desiredNumberScheduled: 1,
          numberMisscheduled: 0,
          numberReady: ready,
          numberAvailable: ready,
          numberUnavailable: 1 - ready,
          updatedNumberScheduled: 1,
          observedGeneration: ds.metadata.generation ?? 1,
        },
        ['numberMisscheduled', 'numberReady'],
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Job

export class JobController extends OwningController {
  readonly name = 'job';
  protected readonly ownType = T.jobs;
  protected readonly ownKind = 'Job';

  protected reconcile(key: string): void {
    const job = this.live(key);
    if (!job) return;
    const spec = specOf(job);
    const status = statusOf(job);
    const conditions = (status.conditions ?? []) as Array<Record<string, string>>;
    if (conditions.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) return;
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const pods = this.children.children(job.metadata.uid);
    const succeeded = pods.filter((p) => (p.status as Status | undefined)?.phase === 'Succeeded').length;
    const failed = pods.filter((p) => (p.status as Status | undefined)?.phase === 'Failed').length;
    const active = pods.filter(isPodActive);
    const now = nowIso();
    if (!spec.suspend) {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      for (let i = 0; i < want; i++) {
        const uid = job.metadata.uid ?? '';
        const jobName = job.metadata.name ?? '';
        active.push(
          this.createChild(
            newPod(job, spec.template ?? {}, {
              labels: {
                'batch.kubernetes.io/controller-uid': uid,
                'batch.kubernetes.io/job-name': jobName,
                'controller-uid': uid,
                'job-name': jobName,
              },
            }),
          ),
        );
      }
    }
    const next: Status = omitZero(
      {
        startTime: status.startTime ?? (spec.suspend ? undefined : now),
        active: active.length,
        ready: active.filter(isPodReady).length,
        succeeded,
        failed,
        terminating: 0,
        uncountedTerminatedPods: {},
      },
      ['ready'],
    );
    if (succeeded >= completions) {
      const complete = { lastProbeTime: now, lastTransitionTime: now, status: 'True' };
      next.conditions = [
        { type: 'SuccessCriteriaMet', ...complete, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
        { type: 'Complete', ...complete, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
      ];
      next.completionTime = now;
      next.ready = 0;
      delete next.active;
    } else if (conditions.length) next.conditions = conditions;
    this.writeStatus(job, next);
  }
}

export const workloadControllers = () => [
  new DeploymentController(),
  new ReplicaSetController(),
  new StatefulSetController(),
  new DaemonSetController(),
  new JobController(),
];
