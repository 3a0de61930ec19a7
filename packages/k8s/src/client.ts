/**
 * A small JSON client for the Kubernetes API built on the KubeConfig of client-node (which
 * supplies TLS material and credentials, exec plugins included). Generic over resource types,
 * with a client-side rate limit, request timeout and typed errors.
 */
import https from 'node:https';
import http from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { K8sError, errorFromStatus, translateError, type RequestDescription } from './errors.js';
import { RateLimiter } from './rate-limit.js';
import type { KubeObject, KubeList } from './types.js';

export interface KubeClientOptions {
  /** Per-request timeout in ms (0: none). Default 60 s. */
  requestTimeoutMs?: number;
  /** Client-side rate limit (requests per second; 0: unlimited). Default 50. */
  qps?: number;
  burst?: number;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** What the request does, for error messages (`list deployments.apps in namespace x`). */
  describe?: RequestDescription;
}

/** Where a resource type lives in the API. */
export interface ResourceLocation {
  group: string;
  version: string;
  resource: string;
  namespaced: boolean;
}

export function resourcePath(t: Pick<ResourceLocation, 'group' | 'version' | 'resource'>, namespace?: string, name?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${t.resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

export class KubeClient {
  readonly server: string;
  private readonly limiter: RateLimiter;
  private readonly timeoutMs: number;
  private agent?: http.Agent;

  constructor(
    readonly kc: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new K8sError('ENOCONTEXT', 'the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.limiter = new RateLimiter(options.qps ?? 50, options.burst);
    this.timeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** A client for the same cluster with other limits. */
  withOptions(options: KubeClientOptions): KubeClient {
    return new KubeClient(this.kc, { requestTimeoutMs: this.timeoutMs, ...options });
  }

  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const describe: RequestDescription = options.describe ?? { verb: method.toLowerCase() };
    if (options.signal?.aborted) throw new K8sError('EABORTED', 'the operation was cancelled');
    await this.limiter.take();
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (err) {
      throw new K8sError('EUNAUTHORIZED', `cannot get credentials for the kubeconfig user: ${(err as Error).message}`, { cause: err });
    }
    const isHttps = url.protocol === 'https:';
    this.agent ??= isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 32,
          ca: opts.ca,
          cert: opts.cert,
          key: opts.key,
          pfx: opts.pfx,
          passphrase: opts.passphrase,
          rejectUnauthorized: opts.rejectUnauthorized,
          servername: opts.servername,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 32 });
    const body = options.body === undefined ? undefined : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = Array.isArray(v) ? v : String(v);
    if (body) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(body.length);
    }
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    const lib = isHttps ? https : http;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = lib.request(url, { method, headers, agent: this.agent, signal: options.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      if (this.timeoutMs > 0) {
        req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`request timed out after ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      }
      req.on('error', reject);
      req.end(body);
    }).catch((err: unknown) => {
      if (options.signal?.aborted) throw new K8sError('EABORTED', 'the operation was cancelled', { cause: err });
      throw translateError(err, describe, this.server);
    });
    let parsed: unknown = text;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
    }
    if (status >= 400) throw errorFromStatus(status, parsed, describe);
    return parsed as T;
  }

  get<T extends KubeObject = KubeObject>(t: ResourceLocation, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T> {
    const ns = t.namespaced ? namespace : undefined;
    return this.request<T>('GET', resourcePath(t, ns, name), { signal, describe: { verb: 'get', group: t.group, resource: t.resource, namespace: ns, name } });
  }

  /** GET that answers undefined on 404. */
  async getOptional<T extends KubeObject = KubeObject>(t: ResourceLocation, namespace: string | undefined, name: string, signal?: AbortSignal): Promise<T | undefined> {
    try {
      return await this.get<T>(t, namespace, name, signal);
    } catch (err) {
      if (err instanceof K8sError && err.code === 'ENOTFOUND') return undefined;
      throw err;
    }
  }

  /** Lists every object of a type, following `continue` tokens. */
  async listAll(
    t: ResourceLocation,
    namespace: string | undefined,
    options: { labelSelector?: string; fieldSelector?: string; limit?: number; signal?: AbortSignal } = {},
  ): Promise<KubeObject[]> {
    const ns = t.namespaced ? namespace : undefined;
    const items: KubeObject[] = [];
    let cont: string | undefined;
    do {
      const page = await this.request<KubeList>('GET', resourcePath(t, ns), {
        query: { limit: options.limit ?? 500, continue: cont, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
        signal: options.signal,
        describe: { verb: 'list', group: t.group, resource: t.resource, namespace: ns },
      });
      const apiVersion = t.group ? `${t.group}/${t.version}` : t.version;
      const kind = page.kind?.replace(/List$/, '');
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind ?? '' });
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  create<T extends KubeObject = KubeObject>(t: ResourceLocation, namespace: string | undefined, body: KubeObject, options: { dryRun?: boolean; signal?: AbortSignal } = {}): Promise<T> {
    const ns = t.namespaced ? namespace : undefined;
    return this.request<T>('POST', resourcePath(t, ns), {
      body,
      query: { dryRun: options.dryRun ? 'All' : undefined, fieldManager: FIELD_MANAGER },
      signal: options.signal,
      describe: { verb: 'create', group: t.group, resource: t.resource, namespace: ns, name: body.metadata?.name },
    });
  }

  /** Server-side apply (force) of the given fields. */
  apply<T extends KubeObject = KubeObject>(t: ResourceLocation, namespace: string | undefined, body: KubeObject, options: { signal?: AbortSignal } = {}): Promise<T> {
    const ns = t.namespaced ? namespace : undefined;
    const name = body.metadata?.name ?? '';
    return this.request<T>('PATCH', resourcePath(t, ns, name), {
      body,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: FIELD_MANAGER, force: true },
      signal: options.signal,
      describe: { verb: 'patch', group: t.group, resource: t.resource, namespace: ns, name },
    });
  }

  async delete(t: ResourceLocation, namespace: string | undefined, name: string, options: { signal?: AbortSignal; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {}): Promise<void> {
    const ns = t.namespaced ? namespace : undefined;
    await this.request('DELETE', resourcePath(t, ns, name), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background' },
      signal: options.signal,
      describe: { verb: 'delete', group: t.group, resource: t.resource, namespace: ns, name },
    });
  }

  /** Frees the keep-alive sockets. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

export const FIELD_MANAGER = 'kubectl-backup';
