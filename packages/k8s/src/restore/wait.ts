/** Waiting for restored workloads to become ready (Deployments, StatefulSets, DaemonSets). */
import type { KubeClient } from '../client.js';
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

export async function waitReady(client: KubeClient, items: PlanItem[], options: { timeoutMs: number; signal?: AbortSignal; intervalMs?: number }): Promise<Readiness[]> {
  const pending = new Map(items.filter(isWaitable).map((it) => [`${it.ref.kind}/${it.ref.name}`, it]));
  const results: Readiness[] = [];
  const last = new Map<string, string>();
  const deadline = Date.now() + options.timeoutMs;
  while (pending.size) {
    for (const [k, it] of [...pending]) {
      const o = await client.getOptional(it.location, it.ref.namespace, it.ref.name, options.signal);
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
