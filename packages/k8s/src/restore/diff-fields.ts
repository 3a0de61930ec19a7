/** Field-level differences between a desired object and a live one. */
export interface FieldChange {
  /** `spec.replicas`, `spec.template.spec.containers[0].image` */
  path: string;
  /** Undefined when the field is absent. */
  from?: unknown;
  to?: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function join(path: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;
}

/**
 * What applying `desired` would change in `live`: fields of `desired` whose value differs
 * (fields only the live object has, e.g. server defaults, are not differences).
 */
export function subsetDiff(desired: unknown, live: unknown, path = ''): FieldChange[] {
  if (isObj(desired) && isObj(live)) {
    return Object.keys(desired).flatMap((k) => subsetDiff(desired[k], live[k], join(path, k)));
  }
  if (Array.isArray(desired) && Array.isArray(live) && desired.length === live.length) {
    return desired.flatMap((d, i) => subsetDiff(d, live[i], `${path}[${i}]`));
  }
  if (desired === undefined || deepEqual(desired, live)) return [];
  return [{ path, from: live, to: desired }];
}

/** Every difference in both directions (for comparing two backups). */
export function fullDiff(a: unknown, b: unknown, path = ''): FieldChange[] {
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => fullDiff(a[k], b[k], join(path, k)));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => fullDiff(x, b[i], `${path}[${i}]`));
  if (deepEqual(a, b)) return [];
  return [{ path, ...(a === undefined ? {} : { from: a }), ...(b === undefined ? {} : { to: b }) }];
}
