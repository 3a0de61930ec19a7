/**
 * Everything a volume operation creates in the cluster (mover pods, clone PVCs,
 * VolumeSnapshots) and every exec session it has open, so that `cleanup()` can remove and stop
 * them all — after success, failure or abort, and also when a creation was still in flight.
 */
import type { KubeConfig } from '@kubernetes/client-node';

import type { ExecSession } from '../exec.js';
import { deletePod, waitPodsGone } from './mover.js';
import { deletePvc, deleteVolumeSnapshot } from './snapshots.js';
import { errorMessage } from './util.js';

export type TrackedKind = 'pod' | 'pvc' | 'volumesnapshot';

interface Tracked {
  kind: TrackedKind;
  namespace: string;
  name: string;
  deleted: boolean;
}

export class CleanedUpError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('volume operations were cleaned up');
  }
}

export class ResourceTracker {
  private readonly objects: Tracked[] = [];
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly sessions = new Set<ExecSession>();
  private closed = false;
  private readonly controller = new AbortController();

  constructor(
    private readonly kc: KubeConfig,
    private readonly onWarning?: (msg: string) => void,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Aborted when cleanup starts: waits and sessions stop. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Runs a step that may create objects; refused once cleanup has started. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new CleanedUpError();
    const p = fn();
    this.inflight.add(p);
    try {
      return await p;
    } finally {
      this.inflight.delete(p);
    }
  }

  add(kind: TrackedKind, namespace: string, name: string): void {
    this.objects.push({ kind, namespace, name, deleted: false });
  }

  addSession(session: ExecSession): void {
    this.sessions.add(session);
    void session.result.finally(() => this.sessions.delete(session)).catch(() => {});
  }

  /** Deletes one tracked object now (idempotent). */
  async release(kind: TrackedKind, namespace: string, name: string): Promise<void> {
    const obj = this.objects.find((o) => o.kind === kind && o.namespace === namespace && o.name === name);
    if (obj?.deleted) return;
    await this.remove(kind, namespace, name);
    if (obj) obj.deleted = true;
  }

  private async remove(kind: TrackedKind, namespace: string, name: string): Promise<void> {
    if (kind === 'pod') await deletePod(this.kc, namespace, name);
    else if (kind === 'pvc') await deletePvc(this.kc, namespace, name);
    else await deleteVolumeSnapshot(this.kc, namespace, name);
  }

  /** Names of the objects created and not deleted yet. */
  remaining(kind?: TrackedKind): string[] {
    return this.objects.filter((o) => !o.deleted && (!kind || o.kind === kind)).map((o) => o.name);
  }

  /**
   * Stops open exec sessions, waits for creations in flight, deletes every object not deleted
   * yet (pods, then PVCs, then snapshots) and waits (bounded) for the pods to be gone.
   * Failures to delete are warnings.
   */
  async cleanup(): Promise<void> {
    this.closed = true;
    this.controller.abort(new CleanedUpError());
    for (const s of this.sessions) s.close(new CleanedUpError());
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    const podsByNs = new Map<string, string[]>();
    for (const kind of ['pod', 'pvc', 'volumesnapshot'] as const) {
      const batch = this.objects.filter((o) => o.kind === kind && !o.deleted);
      await Promise.all(
        batch.map(async (o) => {
          try {
            await this.remove(o.kind, o.namespace, o.name);
            o.deleted = true;
          } catch (err) {
            this.onWarning?.(`could not delete ${o.kind} ${o.namespace}/${o.name}: ${errorMessage(err)}`);
          }
        }),
      );
    }
    for (const o of this.objects) {
      if (o.kind === 'pod') podsByNs.set(o.namespace, [...(podsByNs.get(o.namespace) ?? []), o.name]);
    }
    for (const [ns, names] of podsByNs) {
      const left = await waitPodsGone(this.kc, ns, names).catch(() => names);
      if (left.length > 0) this.onWarning?.(`mover pods still terminating in ${ns}: ${left.join(', ')}`);
    }
  }
}
