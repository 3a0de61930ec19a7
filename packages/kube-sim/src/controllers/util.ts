/**
 * Shared helpers for kube-sim's controllers: resource types, owner references, hashing, and a
 * small keyed work queue base class that every controller builds on.
 */
import { createHash } from 'node:crypto';

import type {
  ChangeEvent,
  Controller,
  KubeObject,
  ObjectMeta,
  ResourceType,
  SimContext,
} from '../store-api.js';

export const T = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  pvcs: { group: '', version: 'v1', resource: 'persistentvolumeclaims' },
  pvs: { group: '', version: 'v1', resource: 'persistentvolumes' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  controllerrevisions: { group: 'apps', version: 'v1', resource: 'controllerrevisions' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  storageclasses: { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' },
  volumesnapshots: { group: 'snapshot.storage.k8s.io', version: 'v1', resource: 'volumesnapshots' },
  volumesnapshotcontents: {
    group: 'snapshot.storage.k8s.io',
    version: 'v1',
    resource: 'volumesnapshotcontents',
  },
  volumesnapshotclasses: {
    group: 'snapshot.storage.k8s.io',
    version: 'v1',
    resource: 'volumesnapshotclasses',
  },
} satisfies Record<string, ResourceType>;

export function isType(a: ResourceType, b: ResourceType): boolean {
  return a.group === b.group && a.resource === b.resource;
}

/** `namespace/name` (or just `name` for cluster-scoped objects). */
export function keyOf(obj: { metadata: ObjectMeta }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function clone<V>(v: V): V {
  return structuredClone(v);
}

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The owner reference a controller puts on the objects it creates. */
export function controllerRef(owner: KubeObject): NonNullable<ObjectMeta['ownerReferences']>[number] {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function controllerOf(obj: KubeObject): NonNullable<ObjectMeta['ownerReferences']>[number] | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** JSON with object keys sorted, so that equal values serialize equally. */
export function stableJson(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + stableJson(v[i]);
    return `${out}]`;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    let out = '{';
    for (const k of Object.keys(o).sort()) {
      if (o[k] === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${stableJson(o[k])}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Whether `stableJson(a) === stableJson(b)`, without building the two strings. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aArray = Array.isArray(a);
  const bArray = Array.isArray(b);
  if (aArray || bArray) {
    if (!aArray || !bArray || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  const aObject = !!a && typeof a === 'object';
  const bObject = !!b && typeof b === 'object';
  if (aObject || bObject) {
    if (!aObject || !bObject) return false;
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    let n = 0;
    for (const k of Object.keys(ao)) {
      if (ao[k] === undefined) continue;
      n++;
      if (!Object.hasOwn(bo, k) || bo[k] === undefined || !sameJson(ao[k], bo[k])) return false;
    }
    for (const k of Object.keys(bo)) if (bo[k] !== undefined) n--;
    return n === 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return false;
  return (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Hashes of stored (never mutated) templates: reconciles see the same template many times. */
const hashes = new WeakMap<object, string>();

/**
 * FNV-32a of the value's stable JSON, encoded like Kubernetes' `rand.SafeEncodeString`.
 * Remembered per object: pass only values that do not change afterwards (stored objects).
 */
export function templateHash(v: unknown): string {
  const known = v && typeof v === 'object' ? hashes.get(v) : undefined;
  if (known !== undefined) return known;
  let h = 0x811c9dc5;
  const bytes = Buffer.from(stableJson(v));
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const hash = [...String(h)].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
  if (v && typeof v === 'object') hashes.set(v, hash);
  return hash;
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/**
 * The image digest kube-sim reports in `containerStatuses[].imageID`: deterministic per image
 * reference (sha256 of the image string as written in the pod spec), e.g.
 * `docker.io/library/nginx@sha256:…`. A reference that already pins a digest keeps it.
 */
export function imageID(image: string): string {
  const repo = normalizeImageRepository(image);
  const at = image.indexOf('@sha256:');
  if (at >= 0) return `${repo}${image.slice(at)}`;
  return `${repo}@sha256:${sha256Hex(image)}`;
}

/** `nginx:1.25` → `docker.io/library/nginx` (the repository without tag or digest). */
export function normalizeImageRepository(image: string): string {
  let ref = image;
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split('/');
  const first = parts[0] ?? '';
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) {
    if (parts.length === 1) return `docker.io/library/${ref}`;
    return `docker.io/${ref}`;
  }
  return ref;
}

/** `nginx` → `docker.io/library/nginx:latest`, the way containerd reports `image`. */
export function normalizeImage(image: string): string {
  const repo = normalizeImageRepository(image);
  const at = image.indexOf('@');
  if (at >= 0) return `${repo}${image.slice(at)}`;
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? `${repo}${image.slice(colon)}` : `${repo}:latest`;
}

export function podPhase(pod: KubeObject): string | undefined {
  return (pod.status as { phase?: string } | undefined)?.phase;
}

export function isPodActive(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return !pod.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isPodReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: Array<{ type: string; status: string }> } | undefined)
    ?.conditions;
  return podPhase(pod) === 'Running' && !!conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Parses a Kubernetes quantity into a number of bytes/units (best effort). */
export function parseQuantity(q: unknown): number {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return 0;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const mult: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    m: 1e-3,
  };
  return n * (m[2] ? (mult[m[2]] ?? 1) : 1);
}

/** Keeps the latest copy of child objects, indexed by the uid of their controller owner. */
export class OwnerIndex {
  private readonly byOwner = new Map<string, Map<string, KubeObject>>();
  private readonly ownerOfKey = new Map<string, string>();

  upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const owner = controllerOf(obj)?.uid;
    const previous = this.ownerOfKey.get(key);
    if (previous !== undefined && previous !== owner) this.byOwner.get(previous)?.delete(key);
    if (owner === undefined) {
      this.ownerOfKey.delete(key);
      return;
    }
    this.ownerOfKey.set(key, owner);
    let children = this.byOwner.get(owner);
    if (!children) this.byOwner.set(owner, (children = new Map()));
    children.set(key, obj);
  }

  remove(obj: KubeObject): void {
    const key = keyOf(obj);
    const owner = this.ownerOfKey.get(key);
    if (owner === undefined) return;
    const children = this.byOwner.get(owner);
    children?.delete(key);
    if (children?.size === 0) this.byOwner.delete(owner);
    this.ownerOfKey.delete(key);
  }

  children(ownerUid: string | undefined): KubeObject[] {
    if (!ownerUid) return [];
    return [...(this.byOwner.get(ownerUid)?.values() ?? [])];
  }

  onEvent(event: ChangeEvent): void {
    if (event.type === 'DELETED') this.remove(event.object);
    else this.upsert(event.object);
  }
}

/**
 * A controller with a keyed work queue: `enqueue(key)` from change events, `reconcile(key)`
 * later (never inside the store's listener), one key at a time, retried with backoff when the
 * store throws (e.g. a Conflict or an injected failure). Honours `controllersPaused()`.
 */
export abstract class QueueController implements Controller {
  abstract readonly name: string;
  protected ctx!: SimContext;
  private readonly queue = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = true;

  start(ctx: SimContext): void {
    this.ctx = ctx;
    this.stopped = false;
    this.unsubscribe = ctx.store.onChange((event) => {
      if (this.stopped) return;
      try {
        this.onEvent(event);
      } catch {
        // a broken event must not break the store's other listeners
      }
    });
    try {
      this.resync();
    } catch {
      this.scheduleResync();
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
    this.queue.clear();
  }

  /** Maps a change event to the keys this controller must reconcile. */
  protected abstract onEvent(event: ChangeEvent): void;
  /** Fills indexes and enqueues everything that exists (called on start). */
  protected abstract resync(): void;
  protected abstract reconcile(key: string): Promise<void> | void;

  private scheduleResync(): void {
    setTimeout(() => {
      if (this.stopped) return;
      try {
        this.resync();
      } catch {
        this.scheduleResync();
      }
    }, 200).unref?.();
  }

  enqueue(key: string, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      if (this.delayed.has(key)) return;
      const t = setTimeout(() => {
        this.delayed.delete(key);
        this.enqueue(key);
      }, delayMs);
      t.unref?.();
      this.delayed.set(key, t);
      return;
    }
    this.queue.add(key);
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.running || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
  }

  /** Resolves once the queue is empty and nothing runs (tests). */
  async idle(): Promise<void> {
    while (this.queue.size > 0 || this.running || this.timer) {
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  private async drain(): Promise<void> {
    if (this.stopped) return;
    if (this.ctx.controllersPaused()) {
      this.schedule(100);
      return;
    }
    this.running = true;
    let processed = 0;
    try {
      while (this.queue.size > 0 && !this.stopped && !this.ctx.controllersPaused()) {
        const key = this.queue.values().next().value as string;
        this.queue.delete(key);
        try {
          await this.reconcile(key);
          this.failures.delete(key);
        } catch {
          const n = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, n);
          this.enqueue(key, Math.min(2000, 20 * 2 ** Math.min(n, 7)));
        }
        // let API requests in between reconciles
        if (++processed % 50 === 0) await new Promise((r) => setImmediate(r));
      }
    } finally {
      this.running = false;
    }
    if (this.queue.size > 0) this.schedule(this.ctx.controllersPaused() ? 100 : 0);
  }
}

export function errorCode(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; status?: unknown; statusCode?: unknown };
    for (const v of [e.code, e.statusCode, e.status]) if (typeof v === 'number') return v;
  }
  return undefined;
}

/** Calls fn and swallows a NotFound (the object went away meanwhile). */
export function ignoreNotFound<R>(fn: () => R): R | undefined {
  try {
    return fn();
  } catch (err) {
    if (errorCode(err) === 404) return undefined;
    throw err;
  }
}
