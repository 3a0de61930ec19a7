/**
 * The HTTPS API server: routing of Kubernetes API paths, authentication and RBAC on every
 * request, discovery, CRUD, patch, watch, subresources (status, scale), access reviews and the
 * admin paths for failure injection.
 */
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import type { KubeObject, ResourceType, SimContext, ExecRequest } from '../store-api.js';
import { aggregatedGroup, type Registry, type ResourceInfo } from '../discovery/registry.js';
import { openApiV3Doc, openApiV3Root } from '../discovery/openapi.js';
import { openApiV2Json, openApiV2Protobuf } from '../discovery/openapi-v2.js';
import type { Store, StoredEvent, Entry } from '../store/store.js';
import { fieldsOf } from '../store/store.js';
import { ApiError, badRequest, forbidden, methodNotAllowed, notFound } from '../store/errors.js';
import { fieldMatcher, labelMatcher, labelSelectorToString } from '../store/selectors.js';
import { applyConfiguration, applyConflicts, deepClone, fieldSetOf, jsonPatch, mergePatch, strategicMergePatch, type ManagedFieldsEntry } from '../store/patch.js';
import type { Authenticator } from '../auth/users.js';
import type { Attributes, Authorizer, PolicyRule, UserInfo } from '../auth/rbac.js';
import { FailureInjector, reasonFor } from '../failures.js';
import { toTable } from './table.js';
import { PROTOBUF, decodeKubeProtobuf } from './protobuf.js';

export const KUBE_VERSION = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0-kubesim',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.24.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export type ExecHandler = (ctx: SimContext, req: IncomingMessage, socket: Duplex, head: Buffer, exec: ExecRequest) => void | Promise<void>;

export interface ServerDeps {
  registry: Registry;
  store: Store;
  authn: Authenticator;
  authz: Authorizer;
  failures: FailureInjector;
  ctx: SimContext;
  /** Loaded lazily: the exec handler of src/exec (501 until it exists). */
  execHandler: () => Promise<ExecHandler | undefined>;
  /** host:port the server is reachable at. */
  address: () => string;
}

interface Route {
  info: ResourceInfo;
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

const TABLE_RE = /as=Table/;

function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.code, err.toStatus());
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      // kubectl >= 1.32 sends protobuf from its typed clients: decode to JSON text
      if ((req.headers['content-type'] ?? '').startsWith(PROTOBUF) && buf.length > 0) {
        if (process.env.KUBE_SIM_PROTOBUF_DUMP) appendFileSync(process.env.KUBE_SIM_PROTOBUF_DUMP, `${req.method} ${req.url} ${buf.toString('base64')}\n`);
        try {
          resolve(JSON.stringify(decodeKubeProtobuf(buf)));
        } catch (err) {
          reject(err);
        }
        return;
      }
      resolve(buf.toString('utf8'));
    });
  });
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (!text.trim()) return undefined;
  try {
    if (contentType?.includes('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (err) {
    try {
      return parseYaml(text);
    } catch {
      throw badRequest(`the body of the request was in an unknown format: ${(err as Error).message}`);
    }
  }
}

function gv(info: { group: string; version: string }): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** Serializes a stored object for the requested version, using the entry's JSON cache. */
function entryJson(e: Entry, apiVersion: string): string {
  if (e.obj.apiVersion === apiVersion) return (e.json ??= JSON.stringify(e.obj));
  return JSON.stringify({ ...e.obj, apiVersion });
}

function asVersion(o: KubeObject, apiVersion: string): KubeObject {
  return o.apiVersion === apiVersion ? o : { ...o, apiVersion };
}

export class ApiServer {
  constructor(private readonly d: ServerDeps) {}

  // ------------------------------------------------------------------ entry points

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.serve(req, res).catch((err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof ApiError) sendError(res, err);
      else {
        console.error('kube-sim: internal error:', err);
        sendError(res, new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`));
      }
    });
  };

  /** WebSocket upgrades: `pods/exec` (and attach) go to the exec handler after authn/authz. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.upgrade(req, socket, head).catch((err) => {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String((err as Error).message));
      const body = JSON.stringify(e.toStatus());
      socket.end(`HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    });
  };

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kube-sim');
    const authenticated = this.d.authn.authenticate(req.headers.authorization);
    if (!authenticated) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const user = this.impersonate(req, authenticated);
    const route = this.route(url.pathname);
    if (!route || route.info.resource !== 'pods' || !route.name || (route.subresource !== 'exec' && route.subresource !== 'attach')) {
      throw new ApiError(400, 'BadRequest', `upgrade requests are only served for pods/exec (got ${url.pathname})`);
    }
    // kubectl asks with GET; RBAC checks pods/exec with the "create" verb (as the API server does)
    this.authorize(user, { verb: 'create', group: '', resource: 'pods', subresource: route.subresource, namespace: route.namespace, name: route.name });
    await this.injectFailure(socket, { verb: 'create', group: '', resource: 'pods', subresource: route.subresource, namespace: route.namespace, name: route.name });
    const pod = this.d.store.peek(route.type, route.namespace, route.name);
    if (!pod) throw notFound('', 'pods', route.name);
    const q = url.searchParams;
    const exec: ExecRequest = {
      namespace: route.namespace!,
      pod: route.name,
      container: q.get('container') ?? undefined,
      command: q.getAll('command'),
      stdin: q.get('stdin') === 'true' || q.get('stdin') === '1',
      tty: q.get('tty') === 'true' || q.get('tty') === '1',
    };
    const handler = await this.d.execHandler();
    if (!handler) throw new ApiError(501, 'NotImplemented', 'pods/exec is not implemented by this kube-sim build');
    await handler(this.d.ctx, req, socket, head, exec);
  }

  private async injectFailure(target: ServerResponse | Duplex, facts: Parameters<FailureInjector['match']>[0]): Promise<void> {
    const rule = this.d.failures.match(facts);
    if (!rule) return;
    if (rule.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    if (rule.drop) {
      const sock = 'socket' in target && target.socket ? target.socket : (target as Duplex);
      sock.destroy();
      throw new DroppedError();
    }
    if (rule.status) {
      throw new ApiError(rule.status, rule.reason ?? reasonFor(rule.status), rule.message ?? `kube-sim: injected failure for ${facts.verb} ${facts.resource}${facts.subresource ? `/${facts.subresource}` : ''}`);
    }
  }

  // ------------------------------------------------------------------ routing

  /** Parses a resource path (`/api/v1/namespaces/x/pods/y/exec`, `/apis/apps/v1/watch/deployments`). */
  private route(pathname: string): Route | undefined {
    const seg = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (seg[0] === 'api' && seg.length >= 3) {
      group = '';
      version = seg[1];
      rest = seg.slice(2);
    } else if (seg[0] === 'apis' && seg.length >= 4) {
      group = seg[1];
      version = seg[2];
      rest = seg.slice(3);
    } else return undefined;
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    let resource: string;
    let name: string | undefined;
    let subresource: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && ['status', 'finalize'].includes(rest[2]))) {
      namespace = rest[1];
      [resource, name, subresource] = rest.slice(2);
      if (rest.length > 5) return undefined;
    } else {
      [resource, name, subresource] = rest;
      if (rest.length > 3) return undefined;
    }
    let info = this.d.registry.get({ group, version, resource });
    // kubectl 1.27/1.28 `auth whoami` asks the alpha/beta versions of SelfSubjectReview
    if (!info && group === 'authentication.k8s.io' && resource === 'selfsubjectreviews' && /^v1(alpha|beta)1$/.test(version)) {
      const v1 = this.d.registry.get({ group, version: 'v1', resource });
      if (v1) info = { ...v1, version };
    }
    if (!info) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (!info.namespaced && namespace) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (subresource && !info.subresources.has(subresource)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return { info, type: { group, version, resource }, namespace, name, subresource, watchPath };
  }

  /** `kubectl --as USER --as-group GROUP`: Impersonate-* headers, allowed by the `impersonate` verb. */
  private impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const as = req.headersDistinct['impersonate-user']?.[0];
    const asGroups = req.headersDistinct['impersonate-group'] ?? [];
    if (!as && asGroups.length === 0) return user;
    if (!as) throw badRequest('requested impersonation of groups without impersonating a user');
    const sa = as.match(/^system:serviceaccount:([^:]+):([^:]+)$/);
    if (sa) this.authorize(user, { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] });
    else this.authorize(user, { verb: 'impersonate', group: '', resource: 'users', name: as });
    for (const g of asGroups) this.authorize(user, { verb: 'impersonate', group: '', resource: 'groups', name: g });
    const groups = [...asGroups];
    if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (!groups.includes('system:authenticated')) groups.push('system:authenticated');
    return { username: as, groups };
  }

  private authorize(user: UserInfo, a: Attributes): void {
    const { allowed } = this.d.authz.authorize(user, a);
    if (allowed) return;
    if (a.path !== undefined) {
      throw forbidden(`forbidden: User "${user.username}" cannot ${a.verb} path "${a.path}"`);
    }
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const what = a.name ? `${a.resource}${a.group ? `.${a.group}` : ''} "${a.name}"` : `${a.resource}${a.group ? `.${a.group}` : ''}`;
    const where = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
    throw forbidden(`${what} is forbidden: User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.group ?? ''}"${where}`, {
      name: a.name,
      group: a.group,
      kind: a.resource,
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kube-sim');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return send(res, 200, 'ok', 'text/plain');
    const authenticated = this.d.authn.authenticate(req.headers.authorization);
    if (!authenticated) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    const user = this.impersonate(req, authenticated);

    if (path.startsWith('/kube-sim/')) return this.admin(req, res, user, path);

    const route = path.startsWith('/api/') || path.startsWith('/apis/') ? this.route(path) : undefined;
    if (!route) {
      this.authorize(user, { verb: method.toLowerCase(), path });
      if (method !== 'GET') throw methodNotAllowed();
      return this.nonResource(res, path, req.headers.accept);
    }
    const { info } = route;
    const q = url.searchParams;
    const watch = route.watchPath || q.get('watch') === 'true' || q.get('watch') === '1';
    let verb: string;
    switch (method) {
      case 'GET':
        verb = watch ? 'watch' : route.name ? 'get' : 'list';
        break;
      case 'POST':
        verb = 'create';
        break;
      case 'PUT':
        verb = 'update';
        break;
      case 'PATCH':
        verb = 'patch';
        break;
      case 'DELETE':
        verb = route.name ? 'delete' : 'deletecollection';
        break;
      default:
        throw methodNotAllowed();
    }
    // POST to a named resource is only valid for subresources (eviction, token…)
    if (verb === 'create' && route.name && !route.subresource) throw methodNotAllowed();
    const attrs: Attributes = { verb, group: info.group, resource: info.resource, subresource: route.subresource, namespace: route.namespace, name: route.name };
    this.authorize(user, attrs);
    const allowedVerbs = route.subresource ? (info.subresources.get(route.subresource)?.verbs ?? []) : info.verbs;
    if (!allowedVerbs.includes(verb) && !(route.subresource === 'exec' || route.subresource === 'attach')) {
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    try {
      await this.injectFailure(res, { verb, group: info.group, resource: info.resource, subresource: route.subresource, namespace: route.namespace, name: route.name });
    } catch (err) {
      if (err instanceof DroppedError) return;
      throw err;
    }

    if (route.subresource) return this.subresource(req, res, route, verb, q, user);
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldManager = q.get('fieldManager') ?? undefined;
    switch (verb) {
      case 'get': {
        const e = this.d.store.getEntry(route.type, route.namespace, route.name!);
        if (!e) throw notFound(info.group, info.resource, route.name!);
        if (TABLE_RE.test(req.headers.accept ?? '')) {
          return send(res, 200, toTable(info, [asVersion(e.obj, gv(info))], { resourceVersion: e.obj.metadata.resourceVersion }, q.get('includeObject') ?? 'Metadata'));
        }
        return send(res, 200, entryJson(e, gv(info)));
      }
      case 'list':
        return this.list(req, res, route, q);
      case 'watch':
        return this.watch(req, res, route, q);
      case 'create': {
        const body = this.objectBody(parseBody(await readBody(req), req.headers['content-type']), info);
        if (this.isReview(info)) return send(res, 201, this.review(info, body, user));
        if (info.namespaced && !route.namespace) throw badRequest('the namespace of the object must be set in the request path');
        if (body.metadata?.namespace && route.namespace && body.metadata.namespace !== route.namespace) {
          throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        const created = this.d.store.create(route.type, route.namespace, { ...body, apiVersion: gv(info), kind: info.kind }, { dryRun, fieldManager: fieldManager ?? defaultManager(req), fieldsV1: fieldsOf(body, false), raw: true, owned: true });
        return send(res, 201, dryRun ? created : this.d.store.jsonOf(created));
      }
      case 'update': {
        const body = this.objectBody(parseBody(await readBody(req), req.headers['content-type']), info);
        if (body.metadata?.name && body.metadata.name !== route.name) {
          throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${route.name})`);
        }
        body.metadata = { ...body.metadata, name: route.name };
        const updated = this.d.store.update(route.type, route.namespace, { ...body, apiVersion: gv(info), kind: info.kind }, { dryRun, fieldManager: fieldManager ?? defaultManager(req), fieldsV1: fieldsOf(body, false), raw: true, owned: true });
        return send(res, 200, dryRun ? updated : this.d.store.jsonOf(updated));
      }
      case 'patch':
        return this.patch(req, res, route, q, user);
      case 'delete': {
        const opts = this.deleteOptions(parseBody(await readBody(req), req.headers['content-type']), q);
        const before = this.d.store.peek(route.type, route.namespace, route.name!);
        const out = this.d.store.delete(route.type, route.namespace, route.name!, opts);
        const gone = !opts.dryRun && !this.d.store.peek(route.type, route.namespace, route.name!);
        if (out && gone && before) return send(res, 200, asVersion(out, gv(info)));
        return send(res, opts.dryRun ? 200 : 202, out ? asVersion(out, gv(info)) : {});
      }
      case 'deletecollection': {
        const opts = this.deleteOptions(parseBody(await readBody(req), req.headers['content-type']), q);
        const lm = labelMatcher(q.get('labelSelector') ?? undefined);
        const fm = fieldMatcher(q.get('fieldSelector') ?? undefined);
        const items: KubeObject[] = [];
        for (const e of this.d.store.entries(route.type, route.namespace)) {
          if (!lm(e.obj.metadata.labels) || !fm(e.obj)) continue;
          const out = this.d.store.delete(route.type, e.obj.metadata.namespace, e.obj.metadata.name!, opts);
          if (out) items.push(out);
        }
        return send(res, 200, { kind: info.listKind, apiVersion: gv(info), metadata: { resourceVersion: this.d.store.currentResourceVersion() }, items });
      }
    }
    throw methodNotAllowed();
  }

  private objectBody(body: unknown, info: ResourceInfo): KubeObject {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest(`the body of the request must be a ${info.kind} object`);
    const o = body as KubeObject;
    if (o.kind && o.kind !== info.kind && !this.isReview(info)) {
      throw badRequest(`the kind of the object (${o.kind}) does not match the kind of the resource (${info.kind})`);
    }
    o.metadata = o.metadata ?? {};
    return o;
  }

  private deleteOptions(body: unknown, q: URLSearchParams): Parameters<Store['delete']>[3] & object {
    const b = (body ?? {}) as { propagationPolicy?: string; orphanDependents?: boolean; dryRun?: string[]; preconditions?: { uid?: string; resourceVersion?: string } };
    let policy = (q.get('propagationPolicy') ?? b.propagationPolicy) as 'Background' | 'Foreground' | 'Orphan' | undefined;
    if (!policy && (b.orphanDependents === true || q.get('orphanDependents') === 'true')) policy = 'Orphan';
    if (policy && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
      throw new ApiError(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
    }
    return { propagationPolicy: policy, dryRun: q.getAll('dryRun').includes('All') || (b.dryRun ?? []).includes('All'), preconditions: b.preconditions };
  }

  // ------------------------------------------------------------------ list / watch

  private list(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const { info } = route;
    const lm = labelMatcher(q.get('labelSelector') ?? undefined);
    const fm = fieldMatcher(q.get('fieldSelector') ?? undefined);
    const limit = Number(q.get('limit') ?? 0);
    if (!Number.isFinite(limit) || limit < 0) throw badRequest(`invalid limit: ${q.get('limit')}`);
    let startAfter: string | undefined;
    const cont = q.get('continue');
    if (cont) {
      try {
        const tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { k: string };
        startAfter = tok.k;
      } catch {
        throw badRequest('continue key is not valid: invalid continue token');
      }
    }
    const rv = this.d.store.currentResourceVersion();
    const apiVersion = gv(info);
    const hasLabel = !!q.get('labelSelector');
    const hasField = !!q.get('fieldSelector');
    const out: Entry[] = [];
    let nextKey: string | undefined;
    let remaining = 0;
    const all = this.d.store.entries(route.type, route.namespace, startAfter);
    for (let i = 0; i < all.length; i++) {
      const e = all[i];
      if ((hasLabel && !lm(e.obj.metadata.labels)) || (hasField && !fm(e.obj))) continue;
      if (limit && out.length >= limit) {
        // count what is left (only cheap when no selector is given)
        remaining = hasLabel || hasField ? -1 : all.length - i;
        break;
      }
      out.push(e);
      nextKey = e.obj.metadata.namespace && info.namespaced ? `${e.obj.metadata.namespace}/${e.obj.metadata.name}` : e.obj.metadata.name;
    }
    const more = remaining !== 0;
    const meta: Record<string, unknown> = { resourceVersion: rv };
    if (more && nextKey) {
      meta.continue = Buffer.from(JSON.stringify({ rv, k: nextKey })).toString('base64url');
      if (remaining > 0) meta.remainingItemCount = remaining;
    }
    if (TABLE_RE.test(req.headers.accept ?? '')) {
      return send(res, 200, toTable(info, out.map((e) => asVersion(e.obj, apiVersion)), meta, q.get('includeObject') ?? 'Metadata'));
    }
    const head = `{"kind":${JSON.stringify(info.listKind)},"apiVersion":${JSON.stringify(apiVersion)},"metadata":${JSON.stringify(meta)},"items":[`;
    const body = head + out.map((e) => entryJson(e, apiVersion)).join(',') + ']}';
    send(res, 200, body);
  }

  private watch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): void {
    const { info, type } = route;
    const bucket = `${info.group}/${info.resource}`;
    const lm = labelMatcher(q.get('labelSelector') ?? undefined);
    const fm = fieldMatcher(q.get('fieldSelector') ?? undefined);
    const nameFilter = route.name;
    const apiVersion = gv(info);
    const table = TABLE_RE.test(req.headers.accept ?? '');
    const includeObject = q.get('includeObject') ?? 'Metadata';
    const matches = (o: KubeObject | undefined): boolean =>
      !!o &&
      (!route.namespace || o.metadata.namespace === route.namespace) &&
      (!nameFilter || o.metadata.name === nameFilter) &&
      lm(o.metadata.labels) &&
      fm(o);
    const rvParam = q.get('resourceVersion');
    const sendInitial = q.get('sendInitialEvents') === 'true';
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const write = (type: string, obj: unknown) => {
      let payload = obj;
      if (table && type !== 'BOOKMARK' && type !== 'ERROR') payload = toTable(info, [asVersion(obj as KubeObject, apiVersion)], { resourceVersion: (obj as KubeObject).metadata.resourceVersion }, includeObject);
      res.write(`{"type":"${type}","object":${typeof payload === 'string' ? payload : JSON.stringify(payload)}}\n`);
    };
    const deliver = (ev: StoredEvent) => {
      if (ev.bucket !== bucket) return;
      const now = matches(ev.obj);
      const before = ev.type === 'MODIFIED' ? matches(ev.old) : now;
      const obj = asVersion(ev.obj, apiVersion);
      if (ev.type === 'MODIFIED') {
        if (now && before) write('MODIFIED', obj);
        else if (now) write('ADDED', obj);
        else if (before) write('DELETED', obj);
      } else if (now) write(ev.type, obj);
    };
    const bookmark = (initialEnd = false) =>
      write('BOOKMARK', {
        kind: info.kind,
        apiVersion,
        metadata: { resourceVersion: this.d.store.currentResourceVersion(), ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
      });
    if (!rvParam || rvParam === '0' || sendInitial) {
      for (const e of this.d.store.entries(type, route.namespace)) {
        if (matches(e.obj)) res.write(`{"type":"ADDED","object":${table ? JSON.stringify(toTable(info, [asVersion(e.obj, apiVersion)], {}, includeObject)) : entryJson(e, apiVersion)}}\n`);
      }
      if (sendInitial) bookmark(true);
    } else {
      const since = Number(rvParam);
      if (!Number.isInteger(since) || since < 0) {
        write('ERROR', new ApiError(400, 'BadRequest', `invalid resource version: ${rvParam}`).toStatus());
        res.end();
        return;
      }
      const events = this.d.store.eventsSince(since);
      if (!events) {
        write('ERROR', new ApiError(410, 'Expired', `too old resource version: ${since} (${this.d.store.currentResourceVersion()})`).toStatus());
        res.end();
        return;
      }
      for (const ev of events) deliver(ev);
    }
    const unsubscribe = this.d.store.onRawChange(deliver);
    const timers: NodeJS.Timeout[] = [];
    const done = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
    };
    if (bookmarks) timers.push(setInterval(() => bookmark(), 10_000));
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    const maxSeconds = timeout > 0 ? timeout : 1800;
    timers.push(
      setTimeout(() => {
        done();
        res.end();
      }, maxSeconds * 1000),
    );
    res.on('close', done);
    req.on('close', done);
  }

  // ------------------------------------------------------------------ patch

  private async patch(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams, _user: UserInfo): Promise<void> {
    const { info } = route;
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const text = await readBody(req);
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldManager = q.get('fieldManager') ?? undefined;
    const store = this.d.store;
    const cur = store.peek(route.type, route.namespace, route.name!);
    if (ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor') {
      if (!fieldManager) throw badRequest('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      const applied = this.objectBody(parseBody(text, 'application/yaml'), info);
      if (applied.metadata?.name && applied.metadata.name !== route.name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${route.name})`);
      const owned = fieldSetOf(stripForFieldSet(applied));
      if (!cur) {
        const created = store.create(route.type, route.namespace, { ...applied, apiVersion: gv(info), kind: info.kind, metadata: { ...applied.metadata, name: route.name } }, {
          dryRun,
          fieldManager,
          operation: 'Apply',
          fieldsV1: owned,
        });
        return send(res, 201, created);
      }
      const prevEntry = ((cur.metadata.managedFields as Array<{ manager: string; operation: string; fieldsV1?: Record<string, unknown> }> | undefined) ?? []).find(
        (m) => m.manager === fieldManager && m.operation === 'Apply',
      );
      const force = q.get('force') === 'true';
      if (!force) {
        const found = applyConflicts(cur as unknown as Record<string, unknown>, applied as unknown as Record<string, unknown>, (cur.metadata.managedFields as ManagedFieldsEntry[] | undefined) ?? [], fieldManager);
        if (found.length) {
          const lines = found.map((c) => `conflict with "${c.manager}"${c.using}: ${c.field}`);
          throw new ApiError(409, 'Conflict', `Apply failed with ${found.length} conflict${found.length > 1 ? 's' : ''}: ${lines.join('\n')}`, {
            name: route.name,
            group: info.group,
            kind: info.resource,
            causes: found.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"${c.using}`, field: c.field })),
          });
        }
      }
      const merged = applyConfiguration(cur as unknown as Record<string, unknown>, applied as unknown as Record<string, unknown>, prevEntry?.fieldsV1) as unknown as KubeObject;
      merged.metadata.resourceVersion = applied.metadata?.resourceVersion ?? cur.metadata.resourceVersion;
      const out = store.update(route.type, route.namespace, merged, { dryRun, fieldManager, operation: 'Apply', fieldsV1: owned });
      return send(res, 200, asVersion(out, gv(info)));
    }
    if (!cur) throw notFound(info.group, info.resource, route.name!);
    const patched = this.applyPatch(ct, info, cur, parseBody(text, ct.includes('yaml') ? 'application/yaml' : 'application/json'));
    const out = store.update(route.type, route.namespace, patched, {
      dryRun,
      fieldManager: fieldManager ?? defaultManager(req),
      fieldsV1: fieldSetOf(stripForFieldSet(JSON.parse(text || '{}'))),
      owned: true,
    });
    return send(res, 200, asVersion(out, gv(info)));
  }

  private applyPatch(ct: string, info: ResourceInfo, cur: KubeObject, patch: unknown): KubeObject {
    const base = deepClone(cur);
    switch (ct) {
      case 'application/json-patch+json':
        return jsonPatch(base, patch) as KubeObject;
      case 'application/merge-patch+json':
        return mergePatch(base, patch) as KubeObject;
      case 'application/strategic-merge-patch+json':
        if (info.custom) {
          throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
        }
        return strategicMergePatch(base, patch) as KubeObject;
      default:
        throw new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${info.custom ? '' : ', application/strategic-merge-patch+json'}`,
        );
    }
  }

  // ------------------------------------------------------------------ subresources

  private async subresource(req: IncomingMessage, res: ServerResponse, route: Route, verb: string, q: URLSearchParams, user: UserInfo): Promise<void> {
    const { info, type, namespace, name, subresource } = route;
    const store = this.d.store;
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldManager = q.get('fieldManager') ?? defaultManager(req);
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
    const cur = store.peek(type, namespace, name!);
    if (!cur && !(subresource === 'exec' || subresource === 'attach')) throw notFound(info.group, info.resource, name!);
    switch (subresource) {
      case 'status': {
        if (verb === 'get') return send(res, 200, asVersion(cur!, gv(info)));
        const text = await readBody(req);
        let next: KubeObject;
        if (verb === 'update') next = this.objectBody(parseBody(text, ct), info);
        else if (ct === 'application/apply-patch+yaml') next = applyConfiguration(cur as never, this.objectBody(parseBody(text, 'yaml'), info) as never, undefined) as unknown as KubeObject;
        else next = this.applyPatch(ct, info, cur!, parseBody(text, ct));
        next.metadata = { ...next.metadata, name, namespace };
        const out = store.updateStatus(type, namespace, next, { dryRun, fieldManager });
        return send(res, 200, asVersion(out, gv(info)));
      }
      case 'scale': {
        const scale = (o: KubeObject) => ({
          kind: 'Scale',
          apiVersion: 'autoscaling/v1',
          metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
          spec: { replicas: (o.spec as { replicas?: number } | undefined)?.replicas ?? 0 },
          status: {
            replicas: (o.status as { replicas?: number } | undefined)?.replicas ?? 0,
            selector: labelSelectorToString((o.spec as { selector?: Parameters<typeof labelSelectorToString>[0] } | undefined)?.selector),
          },
        });
        if (verb === 'get') return send(res, 200, scale(cur!));
        const text = await readBody(req);
        let next: Record<string, unknown>;
        if (verb === 'update') next = parseBody(text, ct) as Record<string, unknown>;
        else if (ct === 'application/json-patch+json') next = jsonPatch(scale(cur!), parseBody(text, ct)) as Record<string, unknown>;
        else next = mergePatch(scale(cur!), parseBody(text, ct.includes('yaml') ? 'yaml' : 'json')) as Record<string, unknown>;
        const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
        if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas)) {
          throw new ApiError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
        }
        const upd = deepClone(cur!);
        upd.spec = { ...(upd.spec as object), replicas };
        const rv = (next.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        upd.metadata.resourceVersion = rv || cur!.metadata.resourceVersion;
        const out = store.update(type, namespace, upd, { dryRun, fieldManager, subresource: 'scale' });
        return send(res, 200, scale(out));
      }
      case 'log':
        return send(res, 200, '', 'text/plain');
      case 'exec':
      case 'attach':
        throw new ApiError(400, 'BadRequest', 'Upgrade request required: pods/exec is served over WebSocket (v4.channel.k8s.io / v5.channel.k8s.io)');
      case 'eviction': {
        store.delete(type, namespace, name!, {});
        return send(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
      }
      case 'token': {
        const body = (parseBody(await readBody(req), ct) ?? {}) as { spec?: Record<string, unknown> };
        const token = this.d.authn.serviceAccountToken(namespace!, name!);
        const seconds = Number(body.spec?.expirationSeconds ?? 3600);
        return send(res, 201, {
          kind: 'TokenRequest',
          apiVersion: 'authentication.k8s.io/v1',
          metadata: { name, namespace, creationTimestamp: null },
          spec: { ...body.spec, expirationSeconds: seconds },
          status: { token, expirationTimestamp: new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
        });
      }
      case 'finalize': {
        const body = this.objectBody(parseBody(await readBody(req), ct), info);
        const upd = deepClone(cur!);
        upd.spec = { ...(upd.spec as object), finalizers: (body.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [] };
        const out = store.update(type, namespace, upd, { dryRun, fieldManager });
        return send(res, 200, out);
      }
      default:
        void user;
        throw methodNotAllowed();
    }
  }

  // ------------------------------------------------------------------ reviews

  private isReview(info: ResourceInfo): boolean {
    return (
      (info.group === 'authorization.k8s.io' && /subjectaccessreviews$|selfsubjectrulesreviews$/.test(info.resource)) ||
      (info.group === 'authentication.k8s.io' && (info.resource === 'selfsubjectreviews' || info.resource === 'tokenreviews'))
    );
  }

  private review(info: ResourceInfo, body: KubeObject, user: UserInfo): KubeObject {
    const out: KubeObject = { ...body, apiVersion: gv(info), kind: info.kind, metadata: { ...body.metadata, creationTimestamp: null as unknown as string } };
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    switch (info.resource) {
      case 'selfsubjectreviews':
        out.status = { userInfo: { username: user.username, uid: user.uid, groups: user.groups } };
        return out;
      case 'tokenreviews': {
        const u = this.d.authn.authenticate(`Bearer ${String(spec.token ?? '')}`);
        out.status = u ? { authenticated: true, user: { username: u.username, uid: u.uid, groups: u.groups } } : { authenticated: false };
        return out;
      }
      case 'selfsubjectaccessreviews':
      case 'subjectaccessreviews':
      case 'localsubjectaccessreviews': {
        const who: UserInfo =
          info.resource === 'selfsubjectaccessreviews' ? user : { username: String(spec.user ?? ''), groups: (spec.groups as string[] | undefined) ?? [] };
        const ra = spec.resourceAttributes as Record<string, string> | undefined;
        const nra = spec.nonResourceAttributes as Record<string, string> | undefined;
        let attrs: Attributes;
        if (ra) attrs = { verb: ra.verb, group: ra.group ?? '', resource: ra.resource, subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name || undefined };
        else if (nra) attrs = { verb: nra.verb, path: nra.path };
        else throw new ApiError(422, 'Invalid', `${info.kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified`);
        const r = this.d.authz.authorize(who, attrs);
        out.status = { allowed: r.allowed, ...(r.reason ? { reason: r.reason } : {}) };
        return out;
      }
      case 'selfsubjectrulesreviews': {
        const ns = String(spec.namespace ?? '');
        const all = user.groups.includes('system:masters');
        const { cluster, namespaced } = this.d.authz.rulesFor(user, ns || undefined);
        const rules: PolicyRule[] = all ? [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] : [...cluster, ...namespaced];
        out.status = {
          resourceRules: rules.filter((r) => r.resources).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups, resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) })),
          nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
          incomplete: false,
        };
        return out;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ non-resource paths

  private nonResource(res: ServerResponse, path: string, accept: string | undefined): void {
    const reg = this.d.registry;
    if (path === '/version') return send(res, 200, KUBE_VERSION);
    // aggregated discovery (one request for everything) when the client asks for it
    const aggregated = (accept ?? '').match(/application\/json;g=apidiscovery\.k8s\.io;v=(v2|v2beta1);as=APIGroupDiscoveryList/g);
    if ((path === '/api' || path === '/apis') && aggregated) {
      const version = aggregated.some((a) => a.includes('v=v2;')) ? 'v2' : 'v2beta1';
      const groups = path === '/api' ? [''] : reg.groupNames();
      const body = JSON.stringify({
        kind: 'APIGroupDiscoveryList',
        apiVersion: `apidiscovery.k8s.io/${version}`,
        metadata: {},
        items: groups.map((g) => aggregatedGroup(reg, g)).filter((x) => x !== undefined),
      });
      return send(res, 200, body, `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
    }
    if (path === '/api') {
      return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.d.address() }] });
    }
    if (path === '/apis') {
      return send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: reg.groupNames().map((g) => this.groupDoc(g)) });
    }
    let m = path.match(/^\/api\/([^/]+)$/);
    if (m) {
      const doc = reg.resourceList('', m[1]);
      if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, { kind: 'APIResourceList', groupVersion: m[1], resources: doc.resources });
    }
    m = path.match(/^\/apis\/([^/]+)$/);
    if (m) {
      if (!reg.group(m[1])) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...this.groupDoc(m[1]) });
    }
    m = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (m) {
      const doc = reg.resourceList(m[1], m[2]);
      if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`, resources: doc.resources });
    }
    if (path === '/openapi/v3') return send(res, 200, openApiV3Root(reg));
    if (path === '/openapi/v2') {
      if ((accept ?? '').includes('protobuf')) {
        const buf = openApiV2Protobuf(reg);
        res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': buf.length });
        res.end(buf);
        return;
      }
      return send(res, 200, openApiV2Json(reg));
    }
    m = path.match(/^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/);
    if (m) {
      const doc = m[1] ? openApiV3Doc(reg, '', m[1]) : openApiV3Doc(reg, m[2], m[3]);
      if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      return send(res, 200, doc);
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  private groupDoc(name: string): Record<string, unknown> {
    const g = this.d.registry.group(name)!;
    return {
      name,
      versions: g.versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${g.preferred}`, version: g.preferred },
    };
  }

  // ------------------------------------------------------------------ admin paths

  private async admin(req: IncomingMessage, res: ServerResponse, user: UserInfo, path: string): Promise<void> {
    if (!user.groups.includes('system:masters')) throw forbidden(`forbidden: User "${user.username}" cannot use the kube-sim admin path "${path}"`);
    const f = this.d.failures;
    if (path === '/kube-sim/failures') {
      if (req.method === 'GET') return send(res, 200, { rules: f.list() });
      if (req.method === 'POST') {
        const rule = parseBody(await readBody(req), req.headers['content-type']);
        try {
          return send(res, 201, { id: f.add(rule as Parameters<FailureInjector['add']>[0]) });
        } catch (err) {
          throw badRequest((err as Error).message);
        }
      }
      if (req.method === 'DELETE') {
        f.clear();
        return send(res, 200, { rules: [] });
      }
    }
    const m = path.match(/^\/kube-sim\/failures\/([^/]+)$/);
    if (m && req.method === 'DELETE') {
      if (!f.remove(m[1])) throw new ApiError(404, 'NotFound', `failure rule "${m[1]}" not found`);
      return send(res, 200, { removed: m[1] });
    }
    if (path === '/kube-sim/controllers/pause' && req.method === 'POST') {
      f.pauseControllers();
      return send(res, 200, { paused: true });
    }
    if (path === '/kube-sim/controllers/resume' && req.method === 'POST') {
      f.resumeControllers();
      return send(res, 200, { paused: false });
    }
    if (path === '/kube-sim/controllers' && req.method === 'GET') return send(res, 200, { paused: f.controllersPaused() });
    throw new ApiError(404, 'NotFound', `unknown kube-sim admin path ${req.method} ${path}`);
  }
}

class DroppedError extends Error {}

function defaultManager(req: IncomingMessage): string {
  const ua = req.headers['user-agent'] ?? 'unknown';
  return ua.split('/')[0] || 'unknown';
}

function stripForFieldSet(o: unknown): unknown {
  if (!o || typeof o !== 'object') return o;
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = o as Record<string, unknown>;
  const meta = rest.metadata as Record<string, unknown> | undefined;
  if (meta) {
    const { name: _n, namespace: _ns, resourceVersion: _rv, uid: _u, creationTimestamp: _c, managedFields: _m, generation: _g, ...m } = meta;
    rest.metadata = m;
    if (Object.keys(m).length === 0) delete rest.metadata;
  }
  return rest;
}
