/**
 * Discovery-driven resource types, the skip list and the include/exclude filters.
 *
 * Captured: every namespaced type that discovery lists with `list`, `get` and `create` in the
 * preferred version of its group (custom resources included). Skipped types and objects are in
 * SKIPPED_TYPES and skipReason() (documented in docs/layout.md).
 */
import type { KubeClient } from './client.js';
import { K8sError } from './errors.js';
import { mapLimit } from './rate-limit.js';
import type { KubeObject } from './types.js';

export interface ResourceType {
  group: string;
  version: string;
  /** Plural name, e.g. `deployments`. */
  resource: string;
  kind: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  verbs: string[];
}

interface ApiResource {
  name: string;
  singularName?: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
}
interface ApiResourceList {
  groupVersion?: string;
  resources?: ApiResource[];
}
interface ApiGroupList {
  groups?: Array<{ name: string; preferredVersion?: { groupVersion: string; version: string }; versions?: Array<{ version: string }> }>;
}

/** Types never captured: they are made by the cluster, or would be wrong to restore. */
export const SKIPPED_TYPES: ReadonlyArray<{ group: string; resource: string; reason: string }> = [
  { group: '', resource: 'events', reason: 'events are a record of the past, not state' },
  { group: 'events.k8s.io', resource: 'events', reason: 'events are a record of the past, not state' },
  { group: '', resource: 'endpoints', reason: 'made by the endpoints controller from Services' },
  { group: 'discovery.k8s.io', resource: 'endpointslices', reason: 'made by the endpointslice controller from Services' },
  { group: 'coordination.k8s.io', resource: 'leases', reason: 'leader-election state of running processes' },
  { group: 'metrics.k8s.io', resource: 'pods', reason: 'live metrics' },
];

/** Kinds skipped when a controller owns the object (the controller makes them again). */
const OWNED_SKIPPED = new Set(['Pod', 'ReplicaSet', 'Job', 'ControllerRevision']);

/** Why an object of a captured type is not captured, or undefined. */
export function skipReason(obj: KubeObject): string | undefined {
  const meta = obj.metadata ?? {};
  if (OWNED_SKIPPED.has(obj.kind)) {
    const owner = meta.ownerReferences?.find((o) => o.controller);
    if (owner) return `owned by ${owner.kind} ${owner.name}, which makes it again`;
  }
  if (obj.kind === 'ConfigMap' && meta.name === 'kube-root-ca.crt') return 'made in every namespace by the cluster';
  if (obj.kind === 'Secret' && (obj as { type?: string }).type === 'kubernetes.io/service-account-token') {
    return 'service-account token, issued again by the cluster';
  }
  if (obj.kind === 'Pod' && ['Succeeded', 'Failed'].includes(String((obj.status as { phase?: string } | undefined)?.phase))) {
    return 'finished pod';
  }
  return undefined;
}

/** True for the `default` ServiceAccount as the cluster makes it (nothing a person added). */
export function isPristineDefaultServiceAccount(obj: KubeObject): boolean {
  if (obj.kind !== 'ServiceAccount' || obj.metadata?.name !== 'default') return false;
  const a = obj as { imagePullSecrets?: unknown[]; automountServiceAccountToken?: boolean; secrets?: Array<{ name?: string }> };
  const labels = Object.keys(obj.metadata.labels ?? {});
  const annotations = Object.keys(obj.metadata.annotations ?? {}).filter((k) => k !== 'kubectl.kubernetes.io/last-applied-configuration');
  const secrets = (a.secrets ?? []).filter((s) => !String(s.name ?? '').startsWith('default-token-'));
  return !a.imagePullSecrets?.length && a.automountServiceAccountToken === undefined && !labels.length && !annotations.length && !secrets.length;
}

async function getList(client: KubeClient, path: string, signal?: AbortSignal): Promise<ApiResourceList> {
  return client.request<ApiResourceList>('GET', path, { signal, describe: { verb: 'get', resource: path } });
}

/**
 * Every resource type of the cluster in the preferred version of its group (subresources left
 * out). A group version whose discovery fails (e.g. an unavailable aggregated API) is reported
 * through `onWarning` and left out.
 */
export async function discoverResources(client: KubeClient, options: { signal?: AbortSignal; onWarning?(message: string): void } = {}): Promise<ResourceType[]> {
  const out: ResourceType[] = [];
  const add = (group: string, version: string, list: ApiResourceList) => {
    for (const r of list.resources ?? []) {
      if (r.name.includes('/')) continue;
      out.push({
        group,
        version,
        resource: r.name,
        kind: r.kind,
        singular: r.singularName || r.kind.toLowerCase(),
        shortNames: r.shortNames ?? [],
        namespaced: r.namespaced,
        verbs: r.verbs ?? [],
      });
    }
  };
  add('', 'v1', await getList(client, '/api/v1', options.signal));
  const groups = await client.request<ApiGroupList>('GET', '/apis', { signal: options.signal, describe: { verb: 'get', resource: '/apis' } });
  const lists = await mapLimit(groups.groups ?? [], 8, async (g) => {
    const version = g.preferredVersion?.version ?? g.versions?.[0]?.version;
    if (!version) return undefined;
    try {
      return { group: g.name, version, list: await getList(client, `/apis/${g.name}/${version}`, options.signal) };
    } catch (err) {
      if (err instanceof K8sError && (err.code === 'EUNREACHABLE' || err.code === 'EABORTED' || err.code === 'EUNAUTHORIZED')) throw err;
      options.onWarning?.(`discovery of ${g.name}/${version} failed, its types are not captured: ${(err as Error).message}`);
      return undefined;
    }
  });
  for (const l of lists) if (l) add(l.group, l.version, l.list);
  return out;
}

/** Why a type is not captured, or undefined. */
export function typeSkipReason(t: ResourceType): string | undefined {
  const skipped = SKIPPED_TYPES.find((s) => s.group === t.group && s.resource === t.resource);
  if (skipped) return skipped.reason;
  const missing = ['list', 'get', 'create'].filter((v) => !t.verbs.includes(v));
  if (missing.length) return `the API does not offer ${missing.join('/')}`;
  return undefined;
}

/**
 * A resource filter: names like `deployments`, `deployments.apps`, `deployment`, `Deployment`,
 * `deploy` (short name), `configmaps`. Matching is case-insensitive; a name without a group
 * matches the type in any group.
 */
export class ResourceFilter {
  private readonly include: string[];
  private readonly exclude: string[];

  constructor(include: readonly string[] = [], exclude: readonly string[] = []) {
    const norm = (list: readonly string[]) => list.flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
    this.include = norm(include);
    this.exclude = norm(exclude);
    if (this.include.includes('*')) this.include = [];
  }

  static matches(name: string, t: Pick<ResourceType, 'group' | 'resource' | 'kind'> & Partial<Pick<ResourceType, 'singular' | 'shortNames'>>): boolean {
    const names = [t.resource, t.kind.toLowerCase(), t.singular ?? '', ...(t.shortNames ?? [])].filter(Boolean).map((n) => n.toLowerCase());
    const dot = name.indexOf('.');
    const base = dot < 0 ? name : name.slice(0, dot);
    const group = dot < 0 ? undefined : name.slice(dot + 1);
    if (!names.includes(base)) return false;
    if (group === undefined) return true;
    return group === t.group.toLowerCase() || (group === 'core' && t.group === '');
  }

  /** Whether objects of this type are wanted. */
  allows(t: Pick<ResourceType, 'group' | 'resource' | 'kind'> & Partial<Pick<ResourceType, 'singular' | 'shortNames'>>): boolean {
    if (this.exclude.some((n) => ResourceFilter.matches(n, t))) return false;
    if (this.include.length && !this.include.some((n) => ResourceFilter.matches(n, t))) return false;
    return true;
  }

  /** Whether the type was excluded by name (include lists do not drop cluster dependencies). */
  excludes(t: Pick<ResourceType, 'group' | 'resource' | 'kind'> & Partial<Pick<ResourceType, 'singular' | 'shortNames'>>): boolean {
    return this.exclude.some((n) => ResourceFilter.matches(n, t));
  }

  get includeList(): string[] {
    return [...this.include];
  }
  get excludeList(): string[] {
    return [...this.exclude];
  }
}

/** Names that matched no discovered type: likely typos, reported as warnings. */
export function unknownFilterNames(names: readonly string[], types: readonly ResourceType[]): string[] {
  return names
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().toLowerCase())
    .filter((n) => n && n !== '*' && !types.some((t) => ResourceFilter.matches(n, t)));
}

/** The preferred type for a kind (namespaced types first), e.g. to resolve owner references. */
export function typeForKind(types: readonly ResourceType[], apiVersion: string, kind: string): ResourceType | undefined {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return types.find((t) => t.group === group && t.kind === kind);
}

/**
 * A label selector check for captured objects (equality, `!=`, `in`, `notin`, exists, `!key`),
 * used when objects come from a backup rather than the API.
 */
export function matchesLabelSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector?.trim()) return true;
  const l = labels ?? {};
  const parts = selector.match(/([^,(]+(\([^)]*\))?)+/g) ?? [];
  return parts.every((raw) => {
    const p = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      const has = m[1]! in l && values.includes(l[m[1]!]!);
      return m[2] === 'in' ? has : !has;
    }
    if ((m = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(p))) return l[m[1]!] !== m[2];
    if ((m = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(p))) return l[m[1]!] === m[2];
    if ((m = /^!\s*(\S+)$/.exec(p))) return !(m[1]! in l);
    return p in l;
  });
}
