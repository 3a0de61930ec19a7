/** Waiting for restored workloads to become ready (Deployments, StatefulSets, DaemonSets). */
import type { KubeClient } from '../client.js';
import { isK8sError } from '../errors.js';
import type { KubeObject } from '../types.js';
import type { PlanItem } from './plan.js';

export interface Readiness {
  kind: string;
  name: string;
  ready: boolean;
  message?: string;
}

type Status = Record<string, number | undefined>;

/** Why a workload is not ready yet, or undefined when it is. */
export function notReadyReason(o: KubeObject): string | undefined {
  const status = (o.status ?? {}) as Status & { observedGeneration?: number };
  const want = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  if (status.observedGeneration !== undefined && o.metadata.generation !== undefined && status.observedGeneration < o.metadata.generation) return 'the controller has not seen the latest spec';
  switch (o.kind) {
    case 'Deployment':
      if ((status.updatedReplicas ?? 0) < want) return `${status.updatedReplicas ?? 0}/${want} replicas updated`;
      if ((status.availableReplicas ?? 0) < want) return `${status.availableReplicas ?? 0}/${want} replicas available`;
      return undefined;
    case 'StatefulSet':
      return (status.readyReplicas ?? 0) < want ? `${status.readyReplicas ?? 0}/${want} replicas ready` : undefined;
    case 'DaemonSet': {
      const desired = status.desiredNumberScheduled ?? 0;
      return (status.numberReady ?? 0) < desired ? `${status.numberReady ?? 0}/${desired} pods ready` : undefined;
    }
    default:
      return undefined;
  }
}

const WORKLOADS = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet']);

export function isWaitable(it: PlanItem): boolean {
  return WORKLOADS.has(`${it.ref.group}/${it.ref.kind}`);
}

/**
 * The current state of the pending workloads: one (paginated) list per type and namespace, so
 * that a poll of 1,500 Deployments is a few requests, not 1,500; a GET each where listing is
 * forbidden.
 */
async function currentState(client: KubeClient, pending: PlanItem[], signal?: AbortSignal): Promise<Map<PlanItem, KubeObject | undefined>> {
  const groups = new Map<string, PlanItem[]>();
  for (const it of pending) {
    const k = `${it.location.group}/${it.location.version}/${it.location.resource}/${it.ref.namespace ?? ''}`;
    const group = groups.get(k);
    if (group) group.push(it);
    else groups.set(k, [it]);
  }
  const out = new Map<PlanItem, KubeObject | undefined>();
  for (const group of groups.values()) {
    const first = group[0]!;
    let listed: Map<string, KubeObject> | undefined;
    try {
      listed = new Map((await client.listAll(first.location, first.ref.namespace, { signal })).map((o) => [o.metadata.name ?? '', o]));
    } catch (err) {
      if (!isK8sError(err, 'EFORBIDDEN')) throw err;
    }
    for (const it of group) out.set(it, listed ? listed.get(it.ref.name) : await client.getOptional(it.location, it.ref.namespace, it.ref.name, signal));
  }
  return out;
}

export async function waitReady(client: KubeClient, items: PlanItem[], options: { timeoutMs: number; signal?: AbortSignal; intervalMs?: number }): Promise<Readiness[]> {
  const pending = new Map(items.filter(isWaitable).map((it) => [`${it.ref.kind}/${it.ref.name}`, it]));
  const results: Readiness[] = [];
  const last = new Map<string, string>();
  const deadline = Date.now() + options.timeoutMs;
  while (pending.size) {
    const state = await currentState(client, [...pending.values()], options.signal);
    for (const [k, it] of [...pending]) {
      const o = state.get(it);
      const reason = o ? notReadyReason(o) : 'not found';
      if (!reason) {
        results.push({ kind: it.ref.kind, name: it.ref.name, ready: true });
        pending.delete(k);
      } else last.set(k, reason);
    }
    if (!pending.size || Date.now() > deadline || options.signal?.aborted) break;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 500));
  }
  for (const [k, it] of pending) results.push({ kind: it.ref.kind, name: it.ref.name, ready: false, message: `not ready after ${Math.round(options.timeoutMs / 1000)} s: ${last.get(k) ?? 'unknown'}` });
  return results;
}
