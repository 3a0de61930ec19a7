/**
 * A permissive but well-formed OpenAPI v3 document per group/version, enough for kubectl:
 * every PATCH operation carries `x-kubernetes-group-version-kind` and the `fieldValidation`
 * query parameter, so kubectl leaves validation to the server (no client-side schema needed,
 * no `--validate=false`). Strategic merge patch is deliberately not advertised in the request
 * bodies: kubectl then computes client-side apply patches from its compiled-in types, exactly
 * as it does against servers without OpenAPI v3.
 */
import { createHash } from 'node:crypto';
import type { Registry, ResourceInfo } from './registry.js';

export function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiV3Doc(registry: Registry, group: string, version: string): Record<string, unknown> | undefined {
  const list = registry.resourceList(group, version);
  if (!list) return undefined;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  const prefix = `/${gvPath(group, version)}`;
  const param = (name: string, where: 'query' | 'path') => ({ name, in: where, ...(where === 'path' ? { required: true } : {}), schema: { type: 'string', uniqueItems: true } });
  const queryParams = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((n) => param(n, 'query'));
  for (const r of list.resources) {
    const [resource, sub] = r.name.split('/');
    const info: ResourceInfo | undefined = registry.get({ group, version, resource });
    if (!info) continue;
    const gvk = sub && r.kind === 'Scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : { group, version, kind: info.kind };
    const schemaName = `${group ? group.split('.').reverse().join('.') : 'io.k8s.api.core'}.${version}.${gvk.kind}`;
    if (!sub) {
      schemas[schemaName] = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-group-version-kind': [gvk] };
    }
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const base = info.namespaced ? `${prefix}/namespaces/{namespace}/${resource}/{name}` : `${prefix}/${resource}/{name}`;
    const path = sub ? `${base}/${sub}` : base;
    const verbs = r.verbs ?? [];
    const op = (action: string, body: string[] | undefined) => ({
      description: `${action} the specified ${info.kind}${sub ? ` ${sub}` : ''}`,
      operationId: `${action}${info.kind}${sub ?? ''}`,
      parameters: queryParams,
      ...(body ? { requestBody: { content: Object.fromEntries(body.map((ct) => [ct, { schema: ct.includes('patch') ? { type: 'object' } : ref }])), required: true } } : {}),
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } }, '401': { description: 'Unauthorized' } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    });
    const item: Record<string, unknown> = {
      parameters: [param('name', 'path'), ...(info.namespaced ? [param('namespace', 'path')] : []), param('pretty', 'query')],
    };
    if (verbs.includes('get')) item.get = op('get', undefined);
    if (verbs.includes('update')) item.put = op('put', ['*/*']);
    if (verbs.includes('patch')) item.patch = op('patch', ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    if (verbs.includes('delete')) item.delete = op('delete', undefined);
    paths[path] = item;
    if (!sub && (verbs.includes('list') || verbs.includes('create'))) {
      const coll = info.namespaced ? `${prefix}/namespaces/{namespace}/${resource}` : `${prefix}/${resource}`;
      const citem: Record<string, unknown> = { parameters: [...(info.namespaced ? [param('namespace', 'path')] : []), param('pretty', 'query')] };
      if (verbs.includes('list')) citem.get = op('list', undefined);
      if (verbs.includes('create')) citem.post = op('post', ['*/*']);
      paths[coll] = citem;
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.33.0' },
    paths,
    components: { schemas, securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } } },
  };
}

export function openApiV3Root(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const { group, version } of registry.groupVersions()) {
    const doc = openApiV3Doc(registry, group, version);
    if (!doc) continue;
    const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase().slice(0, 128);
    const p = gvPath(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  return { paths };
}
