/**
 * A minimal in-memory ObjectStore for the controllers' unit tests: uid, resourceVersion,
 * generation, creationTimestamp, generateName, finalizers + deletionTimestamp and synchronous
 * change events. No garbage collection, no validation: that is the core's job.
 */
import { randomUUID } from 'node:crypto';

import type { ChangeEvent, KubeObject, ObjectStore, ResourceType, SimContext } from '../store-api.js';
import { deepFreeze } from '../store/patch.js';

class TestApiError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class TestingStore implements ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private rv = 1;
  /** Every write, for assertions. */
  readonly writes: Array<{ verb: string; resource: string; name: string }> = [];

  private key(type: ResourceType, ns: string | undefined, name: string): string {
    return `${type.group}/${type.resource}/${ns ?? ''}/${name}`;
  }

  private emit(type: ChangeEvent['type'], resource: ResourceType, object: KubeObject): void {
    for (const l of [...this.listeners]) l({ type, resource, object: frozenCopy(object) });
  }

  get(type: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(type, ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(type: ResourceType, ns?: string): KubeObject[] {
    const prefix = `${type.group}/${type.resource}/${ns === undefined ? '' : `${ns}/`}`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  // read-only views are frozen copies here: a controller that mutates one fails its unit test
  peek(type: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(this.key(type, ns, name));
    return o ? frozenCopy(o) : undefined;
  }

  peekList(type: ResourceType, ns?: string): KubeObject[] {
    return this.list(type, ns).map(frozenCopy);
  }

  create(type: ResourceType, ns: string | undefined, object: KubeObject): KubeObject {
    const o = structuredClone(object);
    if (!o.metadata.name && o.metadata.generateName) {
      o.metadata.name = `${o.metadata.generateName}${randomUUID().slice(0, 5)}`;
    }
    const name = o.metadata.name ?? '';
    if (!name) throw new TestApiError(422, 'name required');
    const k = this.key(type, ns, name);
    if (this.objects.has(k)) throw new TestApiError(409, `${type.resource} "${name}" already exists`);
    o.metadata.namespace = ns;
    if (ns === undefined) delete o.metadata.namespace;
    o.metadata.uid = randomUUID();
    o.metadata.resourceVersion = String(++this.rv);
    o.metadata.generation = 1;
    o.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.objects.set(k, o);
    this.writes.push({ verb: 'create', resource: type.resource, name });
    this.emit('ADDED', type, o);
    return structuredClone(o);
  }

  private replace(type: ResourceType, ns: string | undefined, object: KubeObject, statusOnly: boolean): KubeObject {
    const name = object.metadata.name ?? '';
    const k = this.key(type, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw new TestApiError(404, `${type.resource} "${name}" not found`);
    if (object.metadata.resourceVersion && object.metadata.resourceVersion !== cur.metadata.resourceVersion) {
      throw new TestApiError(409, 'the object has been modified');
    }
    let next: KubeObject;
    if (statusOnly) {
      next = { ...structuredClone(cur), status: structuredClone(object.status) };
    } else {
      next = { ...structuredClone(object), status: structuredClone(cur.status) };
      next.metadata = { ...structuredClone(object.metadata), uid: cur.metadata.uid, creationTimestamp: cur.metadata.creationTimestamp };
      if (cur.metadata.deletionTimestamp) next.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
      if (JSON.stringify((cur as { spec?: unknown }).spec) !== JSON.stringify((object as { spec?: unknown }).spec)) {
        next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
      } else next.metadata.generation = cur.metadata.generation;
      if (next.status === undefined) delete next.status;
    }
    next.metadata.resourceVersion = String(++this.rv);
    if (ns !== undefined) next.metadata.namespace = ns;
    this.writes.push({ verb: statusOnly ? 'updateStatus' : 'update', resource: type.resource, name });
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      this.objects.delete(k);
      this.emit('DELETED', type, next);
      return structuredClone(next);
    }
    this.objects.set(k, next);
    this.emit('MODIFIED', type, next);
    return structuredClone(next);
  }

  update(type: ResourceType, ns: string | undefined, object: KubeObject): KubeObject {
    return this.replace(type, ns, object, false);
  }

  updateStatus(type: ResourceType, ns: string | undefined, object: KubeObject): KubeObject {
    return this.replace(type, ns, object, true);
  }

  delete(type: ResourceType, ns: string | undefined, name: string): KubeObject | undefined {
    const k = this.key(type, ns, name);
    const cur = this.objects.get(k);
    if (!cur) throw new TestApiError(404, `${type.resource} "${name}" not found`);
    this.writes.push({ verb: 'delete', resource: type.resource, name });
    if (cur.metadata.finalizers?.length) {
      if (!cur.metadata.deletionTimestamp) {
        cur.metadata.deletionTimestamp = new Date().toISOString();
        cur.metadata.resourceVersion = String(++this.rv);
        this.emit('MODIFIED', type, cur);
      }
      return structuredClone(cur);
    }
    this.objects.delete(k);
    this.emit('DELETED', type, cur);
    return structuredClone(cur);
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function frozenCopy(o: KubeObject): KubeObject {
  return deepFreeze(structuredClone(o));
}

export function testingContext(dataDir: string, store = new TestingStore()): SimContext & { store: TestingStore; paused: boolean } {
  const ctx = {
    store,
    dataDir,
    nodeName: 'kube-sim-node',
    paused: false,
    controllersPaused: () => ctx.paused,
  };
  return ctx;
}
