/**
 * The scheduler and the kubelet of kube-sim's single node: pods get `spec.nodeName`, then a
 * Running/Ready status with container statuses and image digests. A pod whose PVCs are not
 * Bound stays Pending (Unschedulable). Pods owned by a Job run to completion (Succeeded).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { ChangeEvent, KubeObject } from '../store-api.js';
import {
  QueueController,
  T,
  controllerOf,
  ignoreNotFound,
  imageID,
  isType,
  keyOf,
  normalizeImage,
  nowIso,
  sha256Hex,
  splitKey,
  sameJson,
} from './util.js';
import { RefIndex } from './indexes.js';

interface Container {
  name: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}

interface PodSpec {
  nodeName?: string;
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
  restartPolicy?: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

/** Claim names a pod mounts. */
export function podClaims(pod: KubeObject): string[] {
  const spec = pod.spec as PodSpec | undefined;
  return (spec?.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

export function podIP(uid: string): string {
  const h = Buffer.from(sha256Hex(uid), 'hex');
  return `10.244.${h[0] ?? 0}.${((h[1] ?? 0) % 253) + 2}`;
}

function qosClass(spec: PodSpec): string {
  const all = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = all.length > 0;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r]))) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export class PodController extends QueueController {
  readonly name = 'kubelet';

  /** Pods by the claims they mount. */
  private readonly claims = new RefIndex(podClaims);

  protected resync(): void {
    for (const pod of this.ctx.store.peekList(T.pods)) {
      this.claims.upsert(pod);
      this.enqueue(keyOf(pod));
    }
  }

  protected onEvent(event: ChangeEvent): void {
    if (isType(event.resource, T.pods)) {
      this.claims.onEvent(event);
      if (event.type === 'DELETED') {
        const uid = event.object.metadata.uid;
        if (uid) void rm(join(this.ctx.dataDir, 'pods', uid), { recursive: true, force: true }).catch(() => {});
        return;
      }
      this.enqueue(keyOf(event.object));
    } else if (isType(event.resource, T.pvcs) && event.type !== 'DELETED') {
      const ns = event.object.metadata.namespace;
      const name = event.object.metadata.name;
      if (!ns || !name) return;
      for (const pod of this.claims.referring(ns, name)) {
        if (podPhaseOf(pod) === 'Pending') this.enqueue(keyOf(pod));
      }
    }
  }

  protected reconcile(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    let pod = store.peek(T.pods, namespace, name);
    if (!pod) return;
    if (pod.metadata.deletionTimestamp) {
      // the kubelet has stopped the containers: finish a graceful deletion
      if (!pod.metadata.finalizers?.length) ignoreNotFound(() => store.delete(T.pods, namespace, name));
      return;
    }
    const spec = (pod.spec ?? {}) as PodSpec;
    const status = (pod.status ?? {}) as Record<string, unknown>;
    if (status.phase === 'Succeeded' || status.phase === 'Failed') return;

    // Scheduling: every PVC must be Bound first.
    const unbound = podClaims(pod).filter((claim) => {
      const pvc = store.peek(T.pvcs, namespace, claim);
      return (pvc?.status as { phase?: string } | undefined)?.phase !== 'Bound';
    });
    if (!spec.nodeName && unbound.length > 0) {
      const anyMissing = unbound.some((c) => !store.peek(T.pvcs, namespace, c));
      const message = anyMissing
        ? `persistentvolumeclaim "${unbound[0]}" not found`
        : '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
      const next = {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message,
            lastProbeTime: null,
            lastTransitionTime: sameCondition(status, 'PodScheduled', 'False') ?? nowIso(),
          },
        ],
        qosClass: qosClass(spec),
      };
      this.writeStatus(pod, next);
      return;
    }
    if (!spec.nodeName) {
      pod = store.update(T.pods, namespace, { ...pod, spec: { ...(pod.spec ?? {}), nodeName: this.ctx.nodeName } });
    }

    const isJobPod = controllerOf(pod)?.kind === 'Job';
    const now = nowIso();
    const startTime = (status.startTime as string | undefined) ?? now;
    const since = (type: string, value: string) => sameCondition(status, type, value) ?? now;
    const containerStatus = (c: Container, init: boolean) => {
      const base = {
        name: c.name,
        image: normalizeImage(c.image ?? ''),
        imageID: imageID(c.image ?? ''),
        containerID: `containerd://${sha256Hex(`${pod?.metadata.uid}/${c.name}`)}`,
        restartCount: 0,
      };
      if (init || isJobPod) {
        const prev = findContainerStatus(status, init ? 'initContainerStatuses' : 'containerStatuses', c.name);
        return {
          ...base,
          ready: false,
          started: false,
          state: {
            terminated: prev ?? {
              exitCode: 0,
              reason: 'Completed',
              startedAt: startTime,
              finishedAt: now,
              containerID: base.containerID,
            },
          },
          lastState: {},
        };
      }
      const prevStarted = findRunningStarted(status, c.name);
      const prev = (status.containerStatuses as Array<{ name: string; restartCount?: number; lastState?: unknown }> | undefined)?.find(
        (s) => s.name === c.name,
      );
      return {
        ...base,
        restartCount: prev?.restartCount ?? 0,
        ready: true,
        started: true,
        state: { running: { startedAt: prevStarted ?? startTime } },
        lastState: prev?.lastState ?? {},
      };
    };

    const phase = isJobPod ? 'Succeeded' : 'Running';
    const ready = isJobPod ? 'False' : 'True';
    const conditions: Condition[] = [
      { type: 'PodReadyToStartContainers', status: ready, lastProbeTime: null, lastTransitionTime: since('PodReadyToStartContainers', ready) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: since('Initialized', 'True') },
      { type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: since('Ready', ready) },
      { type: 'ContainersReady', status: ready, lastProbeTime: null, lastTransitionTime: since('ContainersReady', ready) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: since('PodScheduled', 'True') },
    ];
    if (isJobPod) {
      for (const c of conditions) if (c.status === 'False') c.reason = 'PodCompleted';
    }
    const hostIP = this.hostIP();
    const ip = (pod.spec as { hostNetwork?: boolean } | undefined)?.hostNetwork ? hostIP : podIP(pod.metadata.uid ?? keyOf(pod));
    const next: Record<string, unknown> = {
      ...status,
      phase,
      conditions,
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime,
      qosClass: qosClass(spec),
      containerStatuses: (spec.containers ?? []).map((c) => containerStatus(c, false)),
    };
    delete next.reason;
    delete next.message;
    if (spec.initContainers?.length) next.initContainerStatuses = spec.initContainers.map((c) => containerStatus(c, true));
    this.writeStatus(pod, next);
  }

  private hostIP(): string {
    const node = this.ctx.store.peek(T.nodes, undefined, this.ctx.nodeName);
    const addresses = (node?.status as { addresses?: Array<{ type: string; address: string }> } | undefined)?.addresses;
    return addresses?.find((a) => a.type === 'InternalIP')?.address ?? '172.18.0.2';
  }

  private writeStatus(pod: KubeObject, status: Record<string, unknown>): void {
    if (sameJson(pod.status ?? {}, status)) return;
    // a status write reads only metadata and status: no copy of the rest
    this.ctx.store.updateStatus(T.pods, pod.metadata.namespace, { ...pod, status });
  }
}

function podPhaseOf(pod: KubeObject): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase ?? 'Pending';
}

function sameCondition(status: Record<string, unknown>, type: string, value: string): string | undefined {
  const conditions = status.conditions as Condition[] | undefined;
  const c = conditions?.find((x) => x.type === type);
  return c && c.status === value ? c.lastTransitionTime : undefined;
}

function findContainerStatus(status: Record<string, unknown>, field: string, name: string): unknown {
  const list = status[field] as Array<{ name: string; state?: { terminated?: unknown } }> | undefined;
  return list?.find((s) => s.name === name)?.state?.terminated;
}

function findRunningStarted(status: Record<string, unknown>, name: string): string | undefined {
  const list = status.containerStatuses as
    | Array<{ name: string; state?: { running?: { startedAt?: string } } }>
    | undefined;
  return list?.find((s) => s.name === name)?.state?.running?.startedAt;
}
