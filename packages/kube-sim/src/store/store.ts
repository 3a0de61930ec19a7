/**
 * The object store: in-memory maps per resource with the API server's semantics (uid,
 * monotonic resourceVersion, generation, finalizers, deletionTimestamp, garbage collection,
 * namespace deletion), change events with a bounded history for watches, and persistence as
 * a snapshot plus an append-only journal in dataDir.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangeEvent, KubeObject, ObjectStore, ResourceType, WatchEventType } from '../store-api.js';
import type { Registry, ResourceInfo } from '../discovery/registry.js';
import { ApiError, alreadyExists, badRequest, conflict, forbidden, invalid, notFound } from './errors.js';
import { deepClone, deepEqual, deepFreeze } from './patch.js';

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** managedFields operation recorded for fieldManager. */
  operation?: 'Update' | 'Apply';
  /** Field set owned by fieldManager (server-side apply); computed from the object otherwise. */
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
  /** Return the stored object itself instead of a copy (the caller must not mutate it). */
  raw?: boolean;
  /** The caller hands the object over (a freshly parsed request body): it is not copied. */
  owned?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Entry {
  obj: KubeObject;
  json?: string;
}

interface Bucket {
  group: string;
  resource: string;
  objects: Map<string, Entry>;
  sorted?: string[];
}

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  bucket: string;
  namespace?: string;
  obj: KubeObject;
  old?: KubeObject;
}

/** Hooks run by the store on writes (defaults a real cluster adds; admission). */
export interface StoreHooks {
  /** Mutates a new object before it is stored (may throw ApiError). */
  beforeCreate?(info: ResourceInfo, obj: KubeObject, store: Store, dryRun: boolean): void;
  /** Runs after an object was stored. */
  afterCreate?(info: ResourceInfo, obj: KubeObject, store: Store): void;
  beforeUpdate?(info: ResourceInfo, obj: KubeObject, old: KubeObject, store: Store): void;
  afterDelete?(info: ResourceInfo, obj: KubeObject, store: Store): void;
}

const HISTORY = 50_000;
const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const JOURNAL_COMPACT_LINES = 200_000;
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/**
 * KUBE_SIM_FREEZE=1 (kube-sim's own tests) freezes every stored object, so that code which
 * mutates one instead of copying it (see ObjectStore) fails loudly instead of corrupting state.
 */
const FREEZE = process.env.KUBE_SIM_FREEZE === '1';

/** A stored object is never mutated again (frozen when KUBE_SIM_FREEZE=1). */
function stored<T>(obj: T): T {
  return FREEZE ? deepFreeze(obj) : obj;
}

let stampSecond = 0;
let stamp = '';
/** The current time as the API writes it (RFC 3339, seconds). */
export function nowTimestamp(): string {
  const now = Math.floor(Date.now() / 1000);
  if (now !== stampSecond) {
    stampSecond = now;
    stamp = new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  return stamp;
}

function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Resources whose names must be RFC 1123 labels (no dots, at most 63 characters). */
const LABEL_NAMED = new Set(['/namespaces', '/services']);

export class Store implements ObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private rv = 0;
  /** The last historySize events are history[historyStart…]; older ones are dropped in batches. */
  private history: StoredEvent[] = [];
  private historyStart = 0;
  private readonly listeners = new Set<(e: ChangeEvent) => void>();
  private readonly rawListeners = new Set<(e: StoredEvent) => void>();
  /** uid → location of the object */
  private readonly byUid = new Map<string, { bucket: string; key: string }>();
  /** owner uid → dependents' locations ("bucket\0key") */
  private readonly dependents = new Map<string, Set<string>>();
  /** namespace → how many objects it holds (namespace deletion waits for 0) */
  private readonly namespaceCounts = new Map<string, number>();
  /** Writes not yet appended to the journal: the last one per object (it replaces earlier ones). */
  private journal = new Map<string, { rv: number; bucket: string; key: string; entry?: Entry }>();
  private journalTimer: NodeJS.Timeout | undefined;
  private journalWrite: Promise<void> = Promise.resolve();
  private journalLines = 0;
  private closed = false;
  private gcQueue: Array<() => void> = [];
  private gcScheduled = false;
  readonly hooks: StoreHooks[] = [];

  constructor(
    readonly registry: Registry,
    private readonly stateDir?: string,
    /** Journal lines after which the state is folded into a fresh snapshot. */
    private readonly compactAfter = JOURNAL_COMPACT_LINES,
    /** Change events kept for watches that resume from a resourceVersion. */
    private readonly historySize = HISTORY,
  ) {}

  // ---------------------------------------------------------------- persistence

  /** Loads the snapshot and replays the journal; returns true when state existed. */
  load(): boolean {
    if (!this.stateDir) return false;
    mkdirSync(this.stateDir, { recursive: true });
    const snap = join(this.stateDir, 'state.json');
    const journal = join(this.stateDir, 'journal.ndjson');
    let found = false;
    if (existsSync(snap)) {
      const data = JSON.parse(readFileSync(snap, 'utf8')) as { rv: number; buckets: Record<string, KubeObject[]> };
      this.rv = data.rv;
      for (const [b, objs] of Object.entries(data.buckets)) {
        for (const o of objs) this.putRaw(b, keyOf(o.metadata.namespace, o.metadata.name!), o);
      }
      found = true;
    }
    if (existsSync(journal)) {
      const lines = readFileSync(journal, 'utf8').split('\n');
      for (const line of lines) {
        if (!line) continue;
        let rec: { rv: number; b: string; k: string; o?: KubeObject };
        try {
          rec = JSON.parse(line);
        } catch {
          break; // a torn last line after a crash
        }
        this.rv = Math.max(this.rv, rec.rv);
        if (rec.o) this.putRaw(rec.b, rec.k, rec.o);
        else this.removeRaw(rec.b, rec.k);
      }
      found = true;
    }
    // custom resource definitions make their resources servable again
    for (const e of this.bucket('apiextensions.k8s.io', 'customresourcedefinitions').objects.values()) {
      this.registry.addCRD(e.obj);
    }
    if (found) this.compact();
    return found;
  }

  /** Writes a fresh snapshot and empties the journal (atomically: temp file + rename). */
  compact(): void {
    if (!this.stateDir) return;
    // {"rv":…,"buckets":{"group/resource":[objects]}}, reusing the JSON that entries already have
    const buckets: string[] = [];
    for (const [name, b] of this.buckets) {
      if (!b.objects.size) continue;
      const items: string[] = [];
      for (const e of b.objects.values()) items.push(e.json ?? JSON.stringify(e.obj));
      buckets.push(`${JSON.stringify(name)}:[${items.join(',')}]`);
    }
    const tmp = join(this.stateDir, `state.json.${process.pid}.tmp`);
    writeFileSync(tmp, `{"rv":${this.rv},"buckets":{${buckets.join(',')}}}`);
    renameSync(tmp, join(this.stateDir, 'state.json'));
    rmSync(join(this.stateDir, 'journal.ndjson'), { force: true });
    this.journal.clear();
    this.journalLines = 0;
  }

  private record(bucket: string, key: string, obj: KubeObject | undefined, entry?: Entry): void {
    if (!this.stateDir || this.closed) return;
    // replaying the journal keeps the last version of each object: only that one is written
    // (an object written several times between two flushes is serialized once), at the place of
    // its last write, so a journal cut short by a crash is still a prefix of history
    const k = `${bucket}\0${key}`;
    this.journal.delete(k);
    this.journal.set(k, { rv: this.rv, bucket, key, entry: obj ? entry : undefined });
    if (!this.journalTimer) this.journalTimer = setTimeout(() => this.flushJournal(), 50);
  }

  private flushJournal(): Promise<void> {
    this.journalTimer = undefined;
    if (!this.stateDir || this.journal.size === 0) return this.journalWrite;
    this.journalLines += this.journal.size;
    if (this.journalLines > this.compactAfter) {
      // a long-running simulator: fold the journal into a fresh snapshot
      this.journalLines = 0;
      const pending = this.journalWrite;
      this.journalWrite = pending.then(() => this.compact()).catch((err) => console.error('kube-sim: compacting state failed:', err));
      return this.journalWrite;
    }
    const lines: string[] = [];
    for (const { rv, bucket, key, entry } of this.journal.values()) {
      const b = JSON.stringify(bucket);
      const k = JSON.stringify(key);
      lines.push(entry ? `{"rv":${rv},"b":${b},"k":${k},"o":${(entry.json ??= JSON.stringify(entry.obj))}}` : `{"rv":${rv},"b":${b},"k":${k}}`);
    }
    const text = lines.join('\n') + '\n';
    this.journal.clear();
    const file = join(this.stateDir, 'journal.ndjson');
    this.journalWrite = this.journalWrite.then(() => appendFile(file, text)).catch(() => undefined);
    return this.journalWrite;
  }

  /** Flushes pending writes and compacts the state; the store stays usable. */
  async flush(): Promise<void> {
    if (this.journalTimer) clearTimeout(this.journalTimer);
    await this.flushJournal();
    this.compact();
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  // ---------------------------------------------------------------- low level

  private bucketName(group: string, resource: string): string {
    return `${group}/${resource}`;
  }

  private bucket(group: string, resource: string): Bucket {
    const name = this.bucketName(group, resource);
    let b = this.buckets.get(name);
    if (!b) {
      b = { group, resource, objects: new Map() };
      this.buckets.set(name, b);
    }
    return b;
  }

  private putRaw(bucketName: string, key: string, obj: KubeObject): void {
    const i = bucketName.indexOf('/');
    const b = this.bucket(bucketName.slice(0, i), bucketName.slice(i + 1));
    const prev = b.objects.get(key);
    if (!prev) b.sorted = undefined;
    else this.unindex(bucketName, key, prev.obj);
    b.objects.set(key, { obj: stored(obj) });
    this.index(bucketName, key, obj);
  }

  private removeRaw(bucketName: string, key: string): void {
    const b = this.buckets.get(bucketName);
    const prev = b?.objects.get(key);
    if (!b || !prev) return;
    b.objects.delete(key);
    b.sorted = undefined;
    this.unindex(bucketName, key, prev.obj);
  }

  private index(bucket: string, key: string, obj: KubeObject): void {
    if (obj.metadata.uid) this.byUid.set(obj.metadata.uid, { bucket, key });
    this.countInNamespace(key, obj, 1);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      let set = this.dependents.get(ref.uid);
      if (!set) this.dependents.set(ref.uid, (set = new Set()));
      set.add(`${bucket}\0${key}`);
    }
  }

  private unindex(bucket: string, key: string, obj: KubeObject): void {
    if (obj.metadata.uid) this.byUid.delete(obj.metadata.uid);
    this.countInNamespace(key, obj, -1);
    for (const ref of obj.metadata.ownerReferences ?? []) {
      const set = this.dependents.get(ref.uid);
      set?.delete(`${bucket}\0${key}`);
      if (set && set.size === 0) this.dependents.delete(ref.uid);
    }
  }

  /** Counts objects of a namespace (namespaced keys are `namespace/name`). */
  private countInNamespace(key: string, obj: KubeObject, by: number): void {
    const ns = obj.metadata.namespace;
    if (!ns || !key.startsWith(`${ns}/`)) return;
    const n = (this.namespaceCounts.get(ns) ?? 0) + by;
    if (n > 0) this.namespaceCounts.set(ns, n);
    else this.namespaceCounts.delete(ns);
  }

  private emit(type: WatchEventType, b: Bucket, obj: KubeObject, old?: KubeObject): void {
    const ev: StoredEvent = { rv: this.rv, type, bucket: this.bucketName(b.group, b.resource), namespace: obj.metadata.namespace, obj, old };
    this.history.push(ev);
    if (this.history.length - this.historyStart > this.historySize) {
      // dropping one event per write would move the whole array each time: drop in batches
      this.historyStart = this.history.length - this.historySize;
      if (this.historyStart >= this.historySize) {
        this.history = this.history.slice(this.historyStart);
        this.historyStart = 0;
      }
    }
    for (const l of this.rawListeners) l(ev);
    if (this.listeners.size === 0) return;
    const info = this.registry.getAnyVersion(b.group, b.resource);
    const resource: ResourceType = { group: b.group, version: info?.version ?? '', resource: b.resource };
    // the stored object itself: listeners only read it (see ObjectStore)
    const change: ChangeEvent = { type, resource, object: obj };
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        console.error('kube-sim: change listener failed:', err);
      }
    }
  }

  info(type: ResourceType): ResourceInfo {
    const info = this.registry.get(type) ?? this.registry.getAnyVersion(type.group, type.resource);
    if (!info) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${type.resource}${type.group ? `.${type.group}` : ''})`);
    }
    return info;
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  /** Events after resourceVersion `rv`, or undefined when the history no longer reaches back. */
  eventsSince(rv: number): StoredEvent[] | undefined {
    if (rv >= this.rv) return [];
    const first = this.history[this.historyStart];
    if (!first || first.rv > rv + 1) {
      return undefined;
    }
    let lo = this.historyStart;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  onRawChange(listener: (e: StoredEvent) => void): () => void {
    this.rawListeners.add(listener);
    return () => this.rawListeners.delete(listener);
  }

  // ---------------------------------------------------------------- reads

  private check(info: ResourceInfo, namespace: string | undefined): string | undefined {
    if (info.namespaced) {
      if (!namespace) throw badRequest(`namespace is required for namespaced resource ${info.resource}`);
      return namespace;
    }
    return undefined;
  }

  getEntry(type: ResourceType, namespace: string | undefined, name: string): Entry | undefined {
    const info = this.info(type);
    return this.buckets.get(this.bucketName(info.group, info.resource))?.objects.get(keyOf(this.check(info, namespace), name));
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const e = this.getEntry(type, namespace, name);
    return e ? deepClone(e.obj) : undefined;
  }

  /** The stored object itself (not a copy): callers must not mutate it. */
  peek(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.getEntry(type, namespace, name)?.obj;
  }

  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.entries(type, namespace).map((e) => deepClone(e.obj));
  }

  /** The stored objects themselves (not copies): callers must not mutate them. */
  peekList(type: ResourceType, namespace?: string): KubeObject[] {
    return this.entries(type, namespace).map((e) => e.obj);
  }

  /** Stored entries in key order (namespace/name), optionally within one namespace. */
  entries(type: ResourceType, namespace?: string, startAfter?: string): Entry[] {
    const info = this.info(type);
    const b = this.buckets.get(this.bucketName(info.group, info.resource));
    if (!b) return [];
    const keys = this.sortedKeys(b);
    let lo = 0;
    let hi = keys.length;
    const prefix = info.namespaced && namespace ? `${namespace}/` : '';
    const from = startAfter !== undefined && startAfter >= prefix ? startAfter : prefix;
    // first index with key > from (or >= prefix)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (startAfter !== undefined && startAfter >= prefix ? keys[mid] <= from : keys[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    const out: Entry[] = [];
    for (let i = lo; i < keys.length; i++) {
      if (prefix && !keys[i].startsWith(prefix)) break;
      out.push(b.objects.get(keys[i])!);
    }
    return out;
  }

  private sortedKeys(b: Bucket): string[] {
    if (!b.sorted) b.sorted = [...b.objects.keys()].sort();
    return b.sorted;
  }

  /** Looks up any object by uid. */
  byUidLookup(uid: string): { info: ResourceInfo | undefined; obj: KubeObject } | undefined {
    const loc = this.byUid.get(uid);
    if (!loc) return undefined;
    const b = this.buckets.get(loc.bucket);
    const e = b?.objects.get(loc.key);
    if (!b || !e) return undefined;
    return { info: this.registry.getAnyVersion(b.group, b.resource), obj: e.obj };
  }

  /** Every namespaced bucket's objects in `namespace` (for namespace deletion). */
  private objectsInNamespace(namespace: string): Array<{ b: Bucket; obj: KubeObject }> {
    const out: Array<{ b: Bucket; obj: KubeObject }> = [];
    for (const b of this.buckets.values()) {
      for (const [k, e] of b.objects) if (k.startsWith(`${namespace}/`) && e.obj.metadata.namespace === namespace) out.push({ b, obj: e.obj });
    }
    return out;
  }

  // ---------------------------------------------------------------- writes

  private nextRv(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private validateName(info: ResourceInfo, name: string | undefined): void {
    if (!name) {
      throw invalid(info.kind, info.group, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' }]);
    }
    if (LABEL_NAMED.has(`${info.group}/${info.resource}`) && (name.length > 63 || !DNS1123_LABEL.test(name))) {
      throw invalid(info.kind, info.group, name, [
        {
          field: 'metadata.name',
          message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
        },
      ]);
    }
    if (name.length > 253 || (!DNS1123_SUBDOMAIN.test(name) && !(info.group === 'rbac.authorization.k8s.io' && !/[/%]/.test(name)))) {
      throw invalid(info.kind, info.group, name, [
        {
          field: 'metadata.name',
          message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        },
      ]);
    }
  }

  private checkNamespace(info: ResourceInfo, namespace: string | undefined, name: string): void {
    if (!info.namespaced || !namespace) return;
    const ns = this.buckets.get('/namespaces')?.objects.get(namespace);
    if (!ns) throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    if (ns.obj.metadata.deletionTimestamp) {
      throw forbidden(`${info.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        name,
        kind: info.resource,
        group: info.group,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private managedFieldsEntry(obj: KubeObject, opts: WriteOptions, apiVersion: string): Record<string, unknown> {
    const fields = opts.fieldsV1 ?? fieldsOf(obj, opts.subresource === 'status');
    return {
      manager: opts.fieldManager,
      operation: opts.operation ?? 'Update',
      apiVersion,
      time: nowTimestamp(),
      fieldsType: 'FieldsV1',
      fieldsV1: fields,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
    };
  }

  private recordManager(obj: KubeObject, opts: WriteOptions, old: KubeObject | undefined): void {
    const prev = (old?.metadata.managedFields as Array<Record<string, unknown>> | undefined) ?? [];
    if (!opts.fieldManager) {
      if (old) obj.metadata.managedFields = prev.length ? prev : undefined;
      if (!obj.metadata.managedFields) delete obj.metadata.managedFields;
      return;
    }
    const op = opts.operation ?? 'Update';
    const entry = this.managedFieldsEntry(obj, opts, obj.apiVersion);
    const rest = prev.filter((m) => !(m.manager === opts.fieldManager && m.operation === op && (m.subresource ?? '') === (opts.subresource ?? '')));
    obj.metadata.managedFields = [...rest, entry];
  }

  create(type: ResourceType, namespace: string | undefined, object: KubeObject, opts: WriteOptions = {}): KubeObject {
    const info = this.info(type);
    const ns = this.check(info, namespace ?? object.metadata?.namespace);
    const obj = opts.owned ? object : deepClone(object);
    obj.metadata = obj.metadata ?? {};
    if (!obj.apiVersion) obj.apiVersion = info.group ? `${info.group}/${info.version}` : info.version;
    if (!obj.kind) obj.kind = info.kind;
    if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (ns) obj.metadata.namespace = ns;
    else delete obj.metadata.namespace;
    if (obj.metadata.resourceVersion) {
      throw invalid(info.kind, info.group, obj.metadata.name ?? '', [
        { field: 'metadata.resourceVersion', message: 'Invalid value: 0: must be empty for create', reason: 'FieldValueInvalid' },
      ]);
    }
    const b = this.bucket(info.group, info.resource);
    if (!obj.metadata.name && obj.metadata.generateName) {
      for (let attempt = 0; attempt < 20; attempt++) {
        let suffix = '';
        for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
        const candidate = `${obj.metadata.generateName}${suffix}`;
        if (!b.objects.has(keyOf(ns, candidate))) {
          obj.metadata.name = candidate;
          break;
        }
      }
    }
    this.validateName(info, obj.metadata.name);
    const name = obj.metadata.name!;
    this.checkNamespace(info, ns, name);
    const key = keyOf(ns, name);
    if (b.objects.has(key)) throw alreadyExists(info.group, info.resource, name);
    if (info.subresources.has('status') && info.resource !== 'namespaces') delete obj.status;
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = nowTimestamp();
    delete obj.metadata.deletionTimestamp;
    delete obj.metadata.deletionGracePeriodSeconds;
    if (obj.spec !== undefined || info.custom) obj.metadata.generation = 1;
    else delete obj.metadata.generation;
    for (const h of this.hooks) h.beforeCreate?.(info, obj, this, !!opts.dryRun);
    delete obj.metadata.managedFields;
    this.recordManager(obj, opts, undefined);
    if (opts.dryRun) {
      obj.metadata.resourceVersion = undefined;
      delete obj.metadata.resourceVersion;
      return obj;
    }
    obj.metadata.resourceVersion = this.nextRv();
    const entry: Entry = { obj };
    b.objects.set(key, entry);
    stored(obj);
    b.sorted = undefined;
    const bn = this.bucketName(info.group, info.resource);
    this.index(bn, key, obj);
    this.record(bn, key, obj, entry);
    this.emit('ADDED', b, obj);
    for (const h of this.hooks) h.afterCreate?.(info, obj, this);
    return opts.raw ? obj : deepClone(obj);
  }

  update(type: ResourceType, namespace: string | undefined, object: KubeObject, opts: WriteOptions = {}): KubeObject {
    return this.write(type, namespace, object, opts, false);
  }

  updateStatus(type: ResourceType, namespace: string | undefined, object: KubeObject, opts: WriteOptions = {}): KubeObject {
    return this.write(type, namespace, object, { ...opts, subresource: 'status' }, true);
  }

  private write(type: ResourceType, namespace: string | undefined, object: KubeObject, opts: WriteOptions, statusOnly: boolean): KubeObject {
    const info = this.info(type);
    const ns = this.check(info, namespace ?? object.metadata?.namespace);
    const name = object.metadata?.name;
    if (!name) throw invalid(info.kind, info.group, '', [{ field: 'metadata.name', message: 'Required value: name is required', reason: 'FieldValueRequired' }]);
    if (object.metadata.namespace && ns && object.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const b = this.bucket(info.group, info.resource);
    const key = keyOf(ns, name);
    const cur = b.objects.get(key);
    if (!cur) throw notFound(info.group, info.resource, name);
    const old = cur.obj;
    const rv = object.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(info.group, info.resource, name);
    if (object.metadata.uid && object.metadata.uid !== old.metadata.uid) {
      throw conflict(info.group, info.resource, name, `Precondition failed: UID in precondition: ${object.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    let obj: KubeObject;
    if (statusOnly) {
      // stored objects are never mutated, so the new version may share everything but status
      obj = { ...old, metadata: { ...old.metadata } };
      if (object.status === undefined) delete obj.status;
      else obj.status = opts.owned ? object.status : deepClone(object.status);
    } else {
      obj = opts.owned ? object : deepClone(object);
      obj.metadata = obj.metadata ?? {};
      if (info.subresources.has('status')) {
        if (old.status === undefined) delete obj.status;
        else obj.status = old.status;
      }
      if (obj.metadata.managedFields === undefined && old.metadata.managedFields) obj.metadata.managedFields = old.metadata.managedFields;
    }
    obj.apiVersion = obj.apiVersion || old.apiVersion;
    obj.kind = obj.kind || old.kind;
    if (ns) obj.metadata.namespace = ns;
    obj.metadata.name = name;
    obj.metadata.uid = old.metadata.uid;
    obj.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.deletionTimestamp) {
      const added = (obj.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid(info.kind, info.group, name, [
          { field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}` },
        ]);
      }
      obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
      if (old.metadata.deletionGracePeriodSeconds !== undefined) obj.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    } else {
      delete obj.metadata.deletionTimestamp;
      delete obj.metadata.deletionGracePeriodSeconds;
    }
    if (old.metadata.generation !== undefined || obj.spec !== undefined) {
      const specChanged = !statusOnly && !deepEqual(specPart(obj), specPart(old));
      obj.metadata.generation = (old.metadata.generation ?? 0) + (specChanged || old.metadata.generation === undefined ? 1 : 0);
    }
    if (!statusOnly) for (const h of this.hooks) h.beforeUpdate?.(info, obj, old, this);
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    // no-op writes change nothing (no new resourceVersion, no event)
    const unchanged = statusOnly ? deepEqual(obj.status, old.status) : deepEqual(withoutManaged(obj), withoutManaged(old));
    const op = opts.operation ?? 'Update';
    const newManager =
      opts.fieldManager !== undefined &&
      !((old.metadata.managedFields as Array<{ manager?: string; operation?: string }> | undefined) ?? []).some((m) => m.manager === opts.fieldManager && m.operation === op);
    if (unchanged && !newManager) return opts.raw ? old : deepClone(old);
    this.recordManager(obj, opts, old);
    if (opts.dryRun) return obj;
    if (obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).length === 0 && !hasSpecFinalizers(obj)) {
      this.remove(info, b, key, obj);
      return opts.raw ? obj : deepClone(obj);
    }
    obj.metadata.resourceVersion = this.nextRv();
    const bn = this.bucketName(info.group, info.resource);
    this.unindex(bn, key, old);
    const entry: Entry = { obj };
    b.objects.set(key, entry);
    stored(obj);
    this.index(bn, key, obj);
    this.record(bn, key, obj, entry);
    this.emit('MODIFIED', b, obj, old);
    if (obj.metadata.deletionTimestamp) this.scheduleFinalization(info, obj);
    return opts.raw ? obj : deepClone(obj);
  }

  private remove(info: ResourceInfo, b: Bucket, key: string, obj: KubeObject): void {
    const bn = this.bucketName(info.group, info.resource);
    const old = b.objects.get(key)?.obj;
    if (old) this.unindex(bn, key, old);
    b.objects.delete(key);
    b.sorted = undefined;
    const gone = stored({ ...obj, metadata: { ...obj.metadata, resourceVersion: this.nextRv() } });
    this.record(bn, key, undefined);
    this.emit('DELETED', b, gone, old);
    for (const h of this.hooks) h.afterDelete?.(info, gone, this);
    const uid = obj.metadata.uid;
    if (uid && this.dependents.has(uid)) this.enqueueGc(() => this.collectDependents(uid));
    // a foreground-deleting owner may now be free to go
    for (const ref of obj.metadata.ownerReferences ?? []) this.enqueueGc(() => this.checkForeground(ref.uid));
    if (obj.metadata.namespace) {
      const ns = obj.metadata.namespace;
      const nsObj = this.buckets.get('/namespaces')?.objects.get(ns)?.obj;
      if (nsObj?.metadata.deletionTimestamp) this.enqueueGc(() => this.finishNamespace(ns));
    }
  }

  delete(type: ResourceType, namespace: string | undefined, name: string, options: DeleteOptions = {}): KubeObject | undefined {
    const info = this.info(type);
    const ns = this.check(info, namespace);
    const b = this.bucket(info.group, info.resource);
    const key = keyOf(ns, name);
    const cur = b.objects.get(key);
    if (!cur) throw notFound(info.group, info.resource, name);
    const old = cur.obj;
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(info.group, info.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(info.group, info.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    if (info.group === '' && info.resource === 'namespaces' && PROTECTED_NAMESPACES.has(name)) {
      throw forbidden(`namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' });
    }
    if (options.dryRun) return deepClone(old);
    const policy = options.propagationPolicy ?? defaultPropagation(info);
    const uid = old.metadata.uid!;
    if (policy === 'Orphan') this.orphanDependents(uid);
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (policy === 'Foreground' && this.dependents.has(uid) && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (finalizers.length > 0 || hasSpecFinalizers(old)) {
      if (old.metadata.deletionTimestamp && deepEqual(finalizers, old.metadata.finalizers ?? [])) return deepClone(old);
      const obj = deepClone(old);
      obj.metadata.deletionTimestamp = old.metadata.deletionTimestamp ?? nowTimestamp();
      obj.metadata.deletionGracePeriodSeconds = 0;
      obj.metadata.finalizers = finalizers;
      if (info.group === '' && info.resource === 'namespaces') obj.status = { ...(obj.status as object), phase: 'Terminating' };
      obj.metadata.resourceVersion = this.nextRv();
      const bn = this.bucketName(info.group, info.resource);
      this.unindex(bn, key, old);
      const entry: Entry = { obj };
      b.objects.set(key, entry);
      stored(obj);
      this.index(bn, key, obj);
      this.record(bn, key, obj, entry);
      this.emit('MODIFIED', b, obj, old);
      this.scheduleFinalization(info, obj);
      return deepClone(obj);
    }
    this.remove(info, b, key, old);
    return deepClone(old);
  }

  onChange(listener: (event: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- garbage collection

  private enqueueGc(task: () => void): void {
    this.gcQueue.push(task);
    if (this.gcScheduled) return;
    this.gcScheduled = true;
    setImmediate(() => {
      this.gcScheduled = false;
      const tasks = this.gcQueue;
      this.gcQueue = [];
      for (const t of tasks) {
        try {
          t();
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 404)) console.error('kube-sim: garbage collection failed:', err);
        }
      }
    });
  }

  private locate(loc: string): { info: ResourceInfo; obj: KubeObject } | undefined {
    const [bn, key] = loc.split('\0');
    const b = this.buckets.get(bn);
    const obj = b?.objects.get(key)?.obj;
    const info = b && this.registry.getAnyVersion(b.group, b.resource);
    return obj && info ? { info, obj } : undefined;
  }

  private typeOf(info: ResourceInfo): ResourceType {
    return { group: info.group, version: info.version, resource: info.resource };
  }

  /** Background deletion: dependents whose owners are all gone are deleted. */
  private collectDependents(ownerUid: string): void {
    if (this.byUid.has(ownerUid)) return;
    for (const loc of [...(this.dependents.get(ownerUid) ?? [])]) {
      const d = this.locate(loc);
      if (!d) continue;
      const refs = d.obj.metadata.ownerReferences ?? [];
      const alive = refs.filter((r) => r.uid !== ownerUid && this.byUid.has(r.uid));
      if (alive.length > 0) {
        const copy = deepClone(d.obj);
        copy.metadata.ownerReferences = refs.filter((r) => r.uid !== ownerUid);
        this.update(this.typeOf(d.info), copy.metadata.namespace, copy);
      } else if (!d.obj.metadata.deletionTimestamp) {
        this.delete(this.typeOf(d.info), d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: 'Background' });
      }
    }
  }

  private orphanDependents(ownerUid: string): void {
    for (const loc of [...(this.dependents.get(ownerUid) ?? [])]) {
      const d = this.locate(loc);
      if (!d) continue;
      const copy = deepClone(d.obj);
      copy.metadata.ownerReferences = (copy.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
      if (copy.metadata.ownerReferences.length === 0) delete copy.metadata.ownerReferences;
      this.update(this.typeOf(d.info), copy.metadata.namespace, copy);
    }
  }

  private scheduleFinalization(info: ResourceInfo, obj: KubeObject): void {
    if (info.group === '' && info.resource === 'namespaces') {
      const ns = obj.metadata.name!;
      this.enqueueGc(() => this.cleanNamespace(ns));
    }
    if ((obj.metadata.finalizers ?? []).includes('foregroundDeletion')) {
      const uid = obj.metadata.uid!;
      this.enqueueGc(() => this.checkForeground(uid));
    }
  }

  /** Foreground deletion: delete dependents first, then drop the owner's finalizer. */
  private checkForeground(ownerUid: string): void {
    const owner = this.byUidLookup(ownerUid);
    if (!owner?.info || !owner.obj.metadata.deletionTimestamp) return;
    if (!(owner.obj.metadata.finalizers ?? []).includes('foregroundDeletion')) return;
    const deps = [...(this.dependents.get(ownerUid) ?? [])].map((l) => this.locate(l)).filter((d) => d !== undefined);
    const blocking = deps.filter((d) => d.obj.metadata.ownerReferences?.some((r) => r.uid === ownerUid && r.blockOwnerDeletion !== false));
    for (const d of deps) {
      if (!d.obj.metadata.deletionTimestamp) this.delete(this.typeOf(d.info), d.obj.metadata.namespace, d.obj.metadata.name!, { propagationPolicy: 'Foreground' });
    }
    if (blocking.length === 0 || blocking.every((d) => !this.byUid.has(d.obj.metadata.uid!))) {
      const copy = deepClone(owner.obj);
      copy.metadata.finalizers = (copy.metadata.finalizers ?? []).filter((f) => f !== 'foregroundDeletion');
      this.update(this.typeOf(owner.info), copy.metadata.namespace, copy);
    }
  }

  /** Namespace deletion: delete everything in it; the namespace goes when it is empty. */
  private cleanNamespace(ns: string): void {
    for (const { b, obj } of this.objectsInNamespace(ns)) {
      if (obj.metadata.deletionTimestamp) continue;
      const info = this.registry.getAnyVersion(b.group, b.resource);
      if (!info) continue;
      try {
        this.delete(this.typeOf(info), ns, obj.metadata.name!, { propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    this.finishNamespace(ns);
  }

  private finishNamespace(ns: string): void {
    const nsEntry = this.buckets.get('/namespaces')?.objects.get(ns);
    if (!nsEntry?.obj.metadata.deletionTimestamp) return;
    if (this.namespaceCounts.has(ns)) return;
    const copy = deepClone(nsEntry.obj);
    const spec = (copy.spec ?? {}) as { finalizers?: string[] };
    if (spec.finalizers?.length) {
      spec.finalizers = spec.finalizers.filter((f) => f !== 'kubernetes');
      copy.spec = spec;
    }
    const type = { group: '', version: 'v1', resource: 'namespaces' };
    if (spec.finalizers?.length) return;
    const b = this.bucket('', 'namespaces');
    if ((copy.metadata.finalizers ?? []).length === 0) this.remove(this.info(type), b, ns, copy);
    else this.update(type, undefined, copy);
  }

  /** Resolves once pending garbage collection has run (tests, stop()). */
  async settle(): Promise<void> {
    for (let i = 0; i < 100 && (this.gcScheduled || this.gcQueue.length); i++) await new Promise((r) => setImmediate(r));
  }

  /** JSON of a stored object (cached on its entry when it was written). */
  jsonOf(obj: KubeObject): string {
    const e = this.buckets.get(this.bucketName(...this.groupResourceOf(obj)))?.objects.get(keyOf(obj.metadata.namespace, obj.metadata.name ?? ''));
    if (e && e.obj === obj) return (e.json ??= JSON.stringify(obj));
    return JSON.stringify(obj);
  }

  private groupResourceOf(obj: KubeObject): [string, string] {
    const info = this.registry.byKind(obj.apiVersion, obj.kind);
    return [info?.group ?? '', info?.resource ?? ''];
  }

  /** Every stored entry of a bucket without regard to version (used by CRD deletion). */
  deleteAllOf(info: ResourceInfo): void {
    const b = this.buckets.get(this.bucketName(info.group, info.resource));
    if (!b) return;
    for (const [key, e] of [...b.objects]) this.remove(info, b, key, e.obj);
  }
}

function specPart(o: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

function withoutManaged(o: KubeObject): unknown {
  const { managedFields: _mf, ...meta } = o.metadata;
  return { ...o, metadata: meta };
}

function hasSpecFinalizers(o: KubeObject): boolean {
  if (o.kind !== 'Namespace') return false;
  return ((o.spec as { finalizers?: string[] } | undefined)?.finalizers ?? []).length > 0;
}

function defaultPropagation(info: ResourceInfo): 'Background' | 'Orphan' {
  // extensions/v1beta1-era defaults are gone; every resource defaults to background now
  void info;
  return 'Background';
}

/** managedFields for a whole object written by one manager (operation Update). */
export function fieldsOf(obj: KubeObject, status: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const walk = (v: unknown): Record<string, unknown> => {
    const r: Record<string, unknown> = {};
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) r[`f:${k}`] = x && typeof x === 'object' && !Array.isArray(x) ? walk(x) : {};
    }
    return r;
  };
  if (status) {
    if (obj.status !== undefined) out['f:status'] = walk(obj.status);
    return out;
  }
  const meta: Record<string, unknown> = {};
  if (obj.metadata.labels) meta['f:labels'] = walk(obj.metadata.labels);
  if (obj.metadata.annotations) meta['f:annotations'] = walk(obj.metadata.annotations);
  if (Object.keys(meta).length) out['f:metadata'] = meta;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'metadata' || k === 'status' || k === 'apiVersion' || k === 'kind') continue;
    out[`f:${k}`] = v && typeof v === 'object' && !Array.isArray(v) ? walk(v) : {};
  }
  return out;
}
