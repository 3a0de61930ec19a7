/**
 * Patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
 * strategic merge patch (merge keys for the lists of built-in kinds) and a simplified
 * server-side apply.
 */
import { ApiError } from './errors.js';

type Json = unknown;
type JsonObject = Record<string, Json>;

function isObject(v: Json): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Copies JSON data (drops undefined properties, like a JSON round trip, but faster). */
export function deepClone<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      out[i] = x === undefined ? null : deepClone(x);
    }
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x !== undefined) out[k] = deepClone(x);
  }
  return out as T;
}

/** Freezes a JSON value and everything in it (a frozen value is taken as frozen throughout). */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const x of Object.values(v as object)) deepFreeze(x);
  return v;
}

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return deepClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw invalidPatch(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 JSON patch. */
export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json patch must be an array of operations');
  let root = deepClone(doc);
  const get = (parts: string[]): Json => {
    let cur: Json = root;
    for (const p of parts) {
      if (Array.isArray(cur)) cur = cur[Number(p)];
      else if (isObject(cur)) cur = cur[p];
      else return undefined;
    }
    return cur;
  };
  const parentOf = (parts: string[], op: string): [Json, string] => {
    const parent = get(parts.slice(0, -1));
    if (parent === undefined || parent === null || typeof parent !== 'object') {
      throw invalidPatch(`${op} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`);
    }
    return [parent, parts[parts.length - 1]];
  };
  const add = (parts: string[], value: Json, op: string) => {
    if (parts.length === 0) {
      root = value;
      return;
    }
    const [parent, key] = parentOf(parts, op);
    if (Array.isArray(parent)) {
      const idx = key === '-' ? parent.length : Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw invalidPatch(`${op} operation does not apply: index out of bounds: ${key}`);
      parent.splice(idx, 0, value);
    } else (parent as JsonObject)[key] = value;
  };
  const remove = (parts: string[], op: string): Json => {
    const [parent, key] = parentOf(parts, op);
    if (Array.isArray(parent)) {
      const idx = Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length) throw invalidPatch(`${op} operation does not apply: index out of bounds: ${key}`);
      return parent.splice(idx, 1)[0];
    }
    const obj = parent as JsonObject;
    if (!(key in obj)) throw invalidPatch(`${op} operation does not apply: doc is missing key: /${parts.join('/')}: missing value`);
    const v = obj[key];
    delete obj[key];
    return v;
  };
  for (const raw of ops) {
    if (!isObject(raw)) throw new ApiError(400, 'BadRequest', 'invalid json patch operation');
    const op = String(raw.op);
    const path = parsePointer(String(raw.path ?? ''));
    switch (op) {
      case 'add':
        add(path, deepClone(raw.value), op);
        break;
      case 'remove':
        remove(path, op);
        break;
      case 'replace':
        remove(path, op);
        add(path, deepClone(raw.value), op);
        break;
      case 'move': {
        const v = remove(parsePointer(String(raw.from)), op);
        add(path, v, op);
        break;
      }
      case 'copy':
        add(path, deepClone(get(parsePointer(String(raw.from)))), op);
        break;
      case 'test':
        if (!deepEqual(get(path), raw.value)) throw invalidPatch(`testing value /${path.join('/')} failed: test failed`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unexpected json patch operation "${op}"`);
    }
  }
  return root;
}

/**
 * Merge keys of the lists that strategic merge patch merges (by field name, as in the
 * built-in types' `patchMergeKey` tags). Lists not named here are replaced.
 */
const MERGE_KEYS: Record<string, string | ((item: JsonObject) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  schedulingGates: 'name',
  // container ports merge on containerPort, service ports on port
  ports: (item) => ('containerPort' in item ? 'containerPort' : 'port'),
  volumeClaimTemplates: 'metadata',
};
/** Primitive lists merged as sets. */
const SET_LISTS = new Set(['finalizers']);

function mergeKeyOf(field: string, sample: JsonObject | undefined): string | undefined {
  const k = MERGE_KEYS[field];
  if (!k || k === 'metadata') return undefined;
  if (typeof k === 'function') return sample ? k(sample) : undefined;
  return k;
}

/** Applies a strategic merge patch to `original`. */
export function strategicMergePatch(original: Json, patch: Json): Json {
  return smpObject(isObject(original) ? original : {}, isObject(patch) ? patch : {});
}

function smpObject(orig: JsonObject, patch: JsonObject): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return deepClone(rest);
  }
  if (patch.$patch === 'delete') return {};
  let out: JsonObject = { ...orig };
  const retainKeys = patch.$retainKeys;
  if (Array.isArray(retainKeys)) {
    out = Object.fromEntries(Object.entries(out).filter(([k]) => retainKeys.includes(k)));
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(value)) out[field] = cur.filter((x) => !value.some((v) => deepEqual(v, x)));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const cur = out[key];
    if (isObject(value)) {
      if (value.$patch === 'delete') delete out[key];
      else out[key] = smpObject(isObject(cur) ? cur : {}, value);
    } else if (Array.isArray(value)) {
      out[key] = smpList(key, Array.isArray(cur) ? cur : undefined, value, patch[`$setElementOrder/${key}`]);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function smpList(field: string, cur: Json[] | undefined, patch: Json[], order: Json): Json[] {
  if (SET_LISTS.has(field)) {
    const out = [...(cur ?? [])];
    for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(v);
    return out;
  }
  const sample = patch.find(isObject) ?? cur?.find(isObject);
  const mk = mergeKeyOf(field, sample as JsonObject | undefined);
  if (!mk || !patch.every(isObject)) {
    // replace semantics; `$patch: replace` directive items are dropped
    return patch.filter((x) => !(isObject(x) && x.$patch === 'replace')).map((x) => deepClone(x));
  }
  if (patch.some((x) => isObject(x) && x.$patch === 'replace')) {
    return patch.filter((x) => !(isObject(x) && x.$patch === 'replace')).map((x) => deepClone(x));
  }
  const out: JsonObject[] = (cur ?? []).filter(isObject).map((x) => ({ ...x }));
  for (const item of patch as JsonObject[]) {
    const idx = out.findIndex((x) => deepEqual(x[mk], item[mk]));
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpObject(out[idx], item);
    else out.push(smpObject({}, item));
  }
  if (Array.isArray(order)) {
    const pos = (x: JsonObject) => {
      const i = order.findIndex((o) => isObject(o) && deepEqual(o[mk], x[mk]));
      return i < 0 ? Number.MAX_SAFE_INTEGER : i;
    };
    out.sort((a, b) => pos(a) - pos(b));
  }
  return out;
}

/**
 * Server-side apply, simplified: the applied configuration is merged into the live object
 * (maps recursively, keyed lists by merge key, other lists replaced); fields this manager set
 * before and no longer sets are removed. Returns the merged object and the fields it owns.
 */
export function applyConfiguration(live: JsonObject | undefined, applied: JsonObject, previouslyOwned: FieldSet | undefined): JsonObject {
  let base = live ? deepClone(live) : {};
  if (previouslyOwned) base = removeUnowned(base, previouslyOwned, fieldSetOf(applied)) as JsonObject;
  return smpObject(base, applied);
}

/** A managedFields-style field set: `{ "f:spec": { "f:replicas": {} } }`. */
export type FieldSet = JsonObject;

export function fieldSetOf(v: Json, field?: string): FieldSet {
  const out: FieldSet = {};
  if (isObject(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (k.startsWith('$')) continue;
      out[`f:${k}`] = isObject(val) || Array.isArray(val) ? fieldSetOf(val, k) : {};
    }
  } else if (Array.isArray(v)) {
    const sample = v.find(isObject) as JsonObject | undefined;
    const mk = field ? mergeKeyOf(field, sample) : undefined;
    for (const item of v) {
      if (mk && isObject(item)) out[`k:${JSON.stringify({ [mk]: item[mk] })}`] = { '.': {}, ...fieldSetOf(item) };
      else if (!isObject(item)) out[`v:${JSON.stringify(item)}`] = {};
    }
    if (!mk && v.some(isObject)) return {};
  }
  return out;
}

function removeUnowned(live: Json, before: FieldSet, now: FieldSet): Json {
  if (!isObject(live)) return live;
  const out = { ...live };
  for (const [fk, sub] of Object.entries(before)) {
    if (!fk.startsWith('f:')) continue;
    const key = fk.slice(2);
    if (!(fk in now)) {
      delete out[key];
    } else if (isObject(sub) && Object.keys(sub).length > 0 && isObject(out[key])) {
      out[key] = removeUnowned(out[key], sub, (now[fk] as FieldSet) ?? {});
    }
  }
  return out;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
  fieldsV1?: FieldSet;
}

function owns(set: FieldSet | undefined, path: string[]): boolean {
  let cur: unknown = set;
  for (const p of path) {
    if (!isObject(cur) || !(p in cur)) return false;
    cur = cur[p];
  }
  return true;
}

/**
 * Server-side apply conflicts, simplified: a scalar field the applied configuration sets to a
 * different value than the live one, owned by another manager. (Lists and nested list items
 * are not checked.) Returns the causes, empty when there is no conflict.
 */
export function applyConflicts(live: JsonObject, applied: JsonObject, managers: ManagedFieldsEntry[], self: string): Array<{ manager: string; using: string; field: string }> {
  const out: Array<{ manager: string; using: string; field: string }> = [];
  const others = managers.filter((m) => m.manager !== self && !m.subresource);
  const walk = (a: JsonObject, l: JsonObject, path: string[], fpath: string[]) => {
    for (const [k, av] of Object.entries(a)) {
      if (k.startsWith('$')) continue;
      const lv = l[k];
      if (lv === undefined) continue;
      const fp = [...fpath, `f:${k}`];
      if (isObject(av) && isObject(lv)) walk(av, lv, [...path, k], fp);
      else if (!isObject(av) && !Array.isArray(av) && !isObject(lv) && !Array.isArray(lv) && av !== lv && av !== null) {
        const owner = others.find((m) => owns(m.fieldsV1, fp));
        if (owner) out.push({ manager: owner.manager ?? '', using: owner.operation === 'Update' ? ` using ${owner.apiVersion ?? ''}` : '', field: `.${[...path, k].join('.')}` });
      }
    }
  };
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = applied;
  const meta = isObject(rest.metadata) ? { labels: rest.metadata.labels, annotations: rest.metadata.annotations } : undefined;
  walk({ ...rest, ...(meta ? { metadata: meta as Json } : {}) }, live, [], []);
  return out;
}
