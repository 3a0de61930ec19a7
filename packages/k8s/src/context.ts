/**
 * Connecting to a cluster like kubectl does: kubeconfig path (or $KUBECONFIG / ~/.kube/config),
 * context, default namespace from the context, request timeout; who the cluster says we are.
 */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeClientOptions } from './client.js';
import { K8sError, isK8sError } from './errors.js';
import type { KubeObject } from './types.js';

export interface ConnectOptions {
  /** Path of a kubeconfig file (default: $KUBECONFIG merged like kubectl, else ~/.kube/config). */
  kubeconfig?: string;
  /** Context name (default: the kubeconfig's current context). */
  context?: string;
  /** Namespace (default: the context's namespace, else `default`). */
  namespace?: string;
  /** kubectl's `--request-timeout`: `30s`, `2m`, `500ms`, a number of seconds, or `0` (none). */
  requestTimeout?: string | number;
  qps?: number;
  burst?: number;
  /** Use this KubeConfig instead of loading one. */
  kubeConfig?: KubeConfig;
}

/** Where we are: names for records and audit entries (never credentials). */
export interface ClusterInfo {
  /** Context name. */
  context: string;
  /** Cluster name in the kubeconfig. */
  cluster: string;
  /** API server URL. */
  server: string;
  /** The kubeconfig user name. */
  user: string;
}

export interface Connection {
  kc: KubeConfig;
  client: KubeClient;
  info: ClusterInfo;
  /** The namespace asked for, or the context's. */
  namespace: string;
}

/** Parses kubectl's `--request-timeout` into milliseconds. */
export function parseRequestTimeout(value: string | number | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'number') return value * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new K8sError('EUSAGE', `invalid request timeout "${value}" (use e.g. 30s, 2m, 0)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** Loads a kubeconfig and selects the context, with clear errors. */
export function loadKubeConfig(options: Pick<ConnectOptions, 'kubeconfig' | 'context' | 'kubeConfig'> = {}): KubeConfig {
  let kc = options.kubeConfig;
  if (!kc) {
    kc = new KubeConfig();
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig)) throw new K8sError('ENOCONTEXT', `kubeconfig file ${options.kubeconfig} does not exist`);
      kc.loadFromFile(options.kubeconfig);
    } else {
      kc.loadFromDefault();
    }
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new K8sError('ENOCONTEXT', `context "${options.context}" is not in the kubeconfig${known.length ? ` (contexts: ${known.join(', ')})` : ''}`);
    }
    kc.setCurrentContext(options.context);
  }
  const current = kc.getCurrentContext();
  if (!current || !kc.getContextObject(current)) {
    throw new K8sError('ENOCONTEXT', 'no current context in the kubeconfig: give --context or run `kubectl config use-context NAME`');
  }
  if (!kc.getCurrentCluster()) throw new K8sError('ENOCONTEXT', `context "${current}" names a cluster the kubeconfig does not define`);
  return kc;
}

export function clusterInfo(kc: KubeConfig): ClusterInfo {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  const cluster = kc.getCurrentCluster();
  return { context: kc.getCurrentContext(), cluster: cluster?.name ?? ctx?.cluster ?? '', server: cluster?.server ?? '', user: kc.getCurrentUser()?.name ?? ctx?.user ?? '' };
}

/** The namespace of the current context, else `default`. */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

export function connect(options: ConnectOptions = {}): Connection {
  const kc = loadKubeConfig(options);
  const clientOptions: KubeClientOptions = { requestTimeoutMs: parseRequestTimeout(options.requestTimeout), qps: options.qps, burst: options.burst };
  return { kc, client: new KubeClient(kc, clientOptions), info: clusterInfo(kc), namespace: options.namespace || contextNamespace(kc) };
}

export interface Identity {
  username: string;
  groups: string[];
  /** `SelfSubjectReview` (the cluster said so) or `kubeconfig` (the user entry's name). */
  source: 'SelfSubjectReview' | 'kubeconfig';
}

/** Who the cluster says we are (authentication.k8s.io/v1 SelfSubjectReview), else the kubeconfig user. */
export async function whoAmI(client: KubeClient, signal?: AbortSignal): Promise<Identity> {
  try {
    const review = await client.request<KubeObject & { status?: { userInfo?: { username?: string; groups?: string[] } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
        signal,
        describe: { verb: 'create', group: 'authentication.k8s.io', resource: 'selfsubjectreviews' },
      },
    );
    const username = review.status?.userInfo?.username;
    if (username) return { username, groups: review.status?.userInfo?.groups ?? [], source: 'SelfSubjectReview' };
  } catch (err) {
    if (isK8sError(err, 'EUNREACHABLE') || isK8sError(err, 'EUNAUTHORIZED') || isK8sError(err, 'EABORTED')) throw err;
    // older clusters (404) or a denied review: fall back to the kubeconfig
  }
  return { username: clusterInfo(client.kc).user || 'unknown', groups: [], source: 'kubeconfig' };
}

/** Fails with ENONAMESPACE when the namespace does not exist. A Forbidden read is not an error. */
export async function assertNamespace(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<KubeObject | undefined> {
  try {
    return await client.get({ group: '', version: 'v1', resource: 'namespaces', namespaced: false }, undefined, namespace, signal);
  } catch (err) {
    if (isK8sError(err, 'ENOTFOUND')) throw new K8sError('ENONAMESPACE', `namespace "${namespace}" does not exist in the cluster (context "${client.kc.getCurrentContext()}")`, { namespace });
    if (isK8sError(err, 'EFORBIDDEN')) return undefined;
    throw err;
  }
}

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

/** SelfSubjectAccessReview: may the caller do this? */
export async function canI(client: KubeClient, check: AccessCheck, signal?: AbortSignal): Promise<boolean> {
  const review = await client.request<{ status?: { allowed?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: check.verb, group: check.group, resource: check.resource, namespace: check.namespace, name: check.name } },
    },
    signal,
    describe: { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' },
  });
  return review.status?.allowed === true;
}
