/**
 * RBAC authorization, evaluated on every request from the Role, ClusterRole, RoleBinding and
 * ClusterRoleBinding objects in the store (aggregated ClusterRoles included), plus the default
 * roles a real cluster bootstraps.
 */
import type { KubeObject } from '../store-api.js';
import type { Store } from '../store/store.js';
import { labelSelectorObjectMatcher } from '../store/selectors.js';

export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
}

export interface Attributes {
  verb: string;
  /** Resource requests: */
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests: */
  path?: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

const RBAC = 'rbac.authorization.k8s.io';
const T = {
  clusterroles: { group: RBAC, version: 'v1', resource: 'clusterroles' },
  clusterrolebindings: { group: RBAC, version: 'v1', resource: 'clusterrolebindings' },
  roles: { group: RBAC, version: 'v1', resource: 'roles' },
  rolebindings: { group: RBAC, version: 'v1', resource: 'rolebindings' },
};

function subjectMatches(s: Subject, user: UserInfo, bindingNs?: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.username;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount':
      return user.username === `system:serviceaccount:${s.namespace ?? bindingNs}:${s.name}`;
    default:
      return false;
  }
}

export class Authorizer {
  constructor(private readonly store: Store) {}

  private clusterRoleRules(name: string, seen = new Set<string>()): PolicyRule[] {
    const role = this.store.peek(T.clusterroles, undefined, name);
    if (!role || seen.has(name)) return [];
    seen.add(name);
    const agg = role.aggregationRule as { clusterRoleSelectors?: Array<Parameters<typeof labelSelectorObjectMatcher>[0]> } | undefined;
    if (agg?.clusterRoleSelectors?.length) {
      // an aggregated role's rules are exactly those of the roles it selects
      const rules: PolicyRule[] = [];
      const matchers = agg.clusterRoleSelectors.map((s) => labelSelectorObjectMatcher(s));
      for (const e of this.store.entries(T.clusterroles)) {
        if (e.obj.metadata.name === name) continue;
        if (matchers.some((m) => m(e.obj.metadata.labels))) rules.push(...this.clusterRoleRules(e.obj.metadata.name!, seen));
      }
      return rules;
    }
    return (role.rules as PolicyRule[] | undefined) ?? [];
  }

  private roleRefRules(ref: { kind: string; name: string }, namespace?: string): PolicyRule[] {
    if (ref.kind === 'ClusterRole') return this.clusterRoleRules(ref.name);
    if (ref.kind === 'Role' && namespace) return (this.store.peek(T.roles, namespace, ref.name)?.rules as PolicyRule[] | undefined) ?? [];
    return [];
  }

  /**
   * The ClusterRole aggregation controller: keeps `.rules` of every aggregated ClusterRole
   * (admin, edit, view, …) equal to the union of the rules of the roles it selects.
   * Returns the unsubscribe function.
   */
  startAggregation(): () => void {
    let scheduled = false;
    const run = () => {
      scheduled = false;
      for (const e of this.store.entries(T.clusterroles)) {
        if (!(e.obj.aggregationRule as { clusterRoleSelectors?: unknown[] } | undefined)?.clusterRoleSelectors?.length) continue;
        const rules = this.clusterRoleRules(e.obj.metadata.name!);
        const dedup = [...new Map(rules.map((r) => [JSON.stringify(r), r])).values()];
        if (JSON.stringify(dedup) === JSON.stringify(e.obj.rules ?? [])) continue;
        const copy = structuredClone(e.obj);
        copy.rules = dedup;
        try {
          this.store.update(T.clusterroles, undefined, copy);
        } catch {
          // changed meanwhile: the next event reruns the aggregation
        }
      }
    };
    run();
    return this.store.onRawChange((ev) => {
      if (ev.bucket !== `${RBAC}/clusterroles` || scheduled) return;
      scheduled = true;
      setImmediate(run);
    });
  }

  /** Rules that apply to `user` cluster-wide and (when given) in `namespace`. */
  rulesFor(user: UserInfo, namespace?: string): { cluster: PolicyRule[]; namespaced: PolicyRule[] } {
    const cluster: PolicyRule[] = [];
    const namespaced: PolicyRule[] = [];
    for (const e of this.store.entries(T.clusterrolebindings)) {
      const b = e.obj as KubeObject & { subjects?: Subject[]; roleRef: { kind: string; name: string } };
      if ((b.subjects ?? []).some((s) => subjectMatches(s, user))) cluster.push(...this.roleRefRules(b.roleRef));
    }
    if (namespace) {
      for (const e of this.store.entries(T.rolebindings, namespace)) {
        const b = e.obj as KubeObject & { subjects?: Subject[]; roleRef: { kind: string; name: string } };
        if ((b.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) namespaced.push(...this.roleRefRules(b.roleRef, namespace));
      }
    }
    return { cluster, namespaced };
  }

  authorize(user: UserInfo, attrs: Attributes): { allowed: boolean; reason: string } {
    if (user.groups.includes('system:masters')) return { allowed: true, reason: 'member of system:masters' };
    const { cluster, namespaced } = this.rulesFor(user, attrs.namespace);
    if (attrs.path !== undefined) {
      return { allowed: cluster.some((r) => nonResourceMatches(r, attrs)), reason: '' };
    }
    if (cluster.some((r) => ruleMatches(r, attrs)) || namespaced.some((r) => ruleMatches(r, attrs))) {
      return { allowed: true, reason: 'RBAC: allowed by a role binding' };
    }
    return { allowed: false, reason: '' };
  }
}

export function ruleMatches(r: PolicyRule, a: Attributes): boolean {
  if (!r.verbs?.some((v) => v === '*' || v === a.verb)) return false;
  if (!r.apiGroups?.some((g) => g === '*' || g === (a.group ?? ''))) return false;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resOk = r.resources?.some((x) => {
    if (x === '*' || x === res) return true;
    if (a.subresource && x === `${a.resource}/*`) return true;
    if (a.subresource && x === `*/${a.subresource}`) return true;
    return false;
  });
  if (!resOk) return false;
  if (r.resourceNames?.length) return a.name !== undefined && r.resourceNames.includes(a.name);
  return true;
}

function nonResourceMatches(r: PolicyRule, a: Attributes): boolean {
  if (!r.verbs?.some((v) => v === '*' || v === a.verb)) return false;
  return (r.nonResourceURLs ?? []).some((u) => u === '*' || u === a.path || (u.endsWith('*') && a.path!.startsWith(u.slice(0, -1))));
}

// ------------------------------------------------------------------ default roles

const RW = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const R = ['get', 'list', 'watch'];

function role(name: string, rules: PolicyRule[], labels?: Record<string, string>, aggregateFrom?: string): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    ...(aggregateFrom
      ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${aggregateFrom}`]: 'true' } }] }, rules: [] }
      : { rules }),
  };
}

function binding(name: string, roleName: string, subjects: Subject[]): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
    subjects,
  };
}

/** The ClusterRoles and ClusterRoleBindings a real cluster bootstraps (the ones clients rely on). */
export function defaultRbacObjects(): KubeObject[] {
  const authenticated: Subject[] = [{ apiGroup: RBAC, kind: 'Group', name: 'system:authenticated' }];
  return [
    role('cluster-admin', [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ]),
    role('admin', [], undefined, 'admin'),
    role('edit', [], { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }, 'edit'),
    role('view', [], { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' }, 'view'),
    role(
      'system:aggregate-to-admin',
      [
        { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
        { apiGroups: [RBAC], resources: ['rolebindings', 'roles'], verbs: [...RW, ...R] },
      ],
      { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
    ),
    role(
      'system:aggregate-to-edit',
      [
        { apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], verbs: R },
        { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
        { apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], verbs: RW },
        { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        {
          apiGroups: [''],
          resources: ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'],
          verbs: RW,
        },
        { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
        {
          apiGroups: ['apps'],
          resources: ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
          verbs: RW,
        },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: RW },
        { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: RW },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: RW },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: RW },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: RW },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...RW, ...R] },
      ],
      { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
    ),
    role(
      'system:aggregate-to-view',
      [
        {
          apiGroups: [''],
          resources: [
            'configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers',
            'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status',
          ],
          verbs: R,
        },
        {
          apiGroups: [''],
          resources: ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'],
          verbs: R,
        },
        { apiGroups: [''], resources: ['namespaces'], verbs: R },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: R },
        {
          apiGroups: ['apps'],
          resources: [
            'controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets',
            'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status',
          ],
          verbs: R,
        },
        { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], verbs: R },
        { apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], verbs: R },
        { apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'], verbs: R },
        { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingresses/status', 'networkpolicies'], verbs: R },
      ],
      { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
    ),
    role('system:basic-user', [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ]),
    role('system:discovery', [
      { nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], verbs: ['get'] },
    ]),
    role('system:public-info-viewer', [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }]),
    binding('cluster-admin', 'cluster-admin', [{ apiGroup: RBAC, kind: 'Group', name: 'system:masters' }]),
    binding('system:basic-user', 'system:basic-user', authenticated),
    binding('system:discovery', 'system:discovery', authenticated),
    binding('system:public-info-viewer', 'system:public-info-viewer', [...authenticated, { apiGroup: RBAC, kind: 'Group', name: 'system:unauthenticated' }]),
  ];
}
