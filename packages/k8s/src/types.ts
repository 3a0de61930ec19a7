/** Shapes of Kubernetes objects as this library handles them (plain JSON). */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generation?: number;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export interface KubeList {
  kind?: string;
  apiVersion?: string;
  metadata?: { continue?: string; resourceVersion?: string; remainingItemCount?: number };
  items?: KubeObject[];
}

/** Identifies one object of one resource type. */
export interface ObjectRef {
  group: string;
  version: string;
  resource: string;
  kind: string;
  /** Undefined for cluster-scoped objects. */
  namespace?: string;
  name: string;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** `Deployment apps/v1 ns/name` style label for logs. */
export function refLabel(r: ObjectRef): string {
  return `${r.kind}${r.group ? `.${r.group}` : ''} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}
