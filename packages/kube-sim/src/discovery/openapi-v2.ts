/**
 * `/openapi/v2` for kubectl ≤ 1.27, which reads it (as gnostic's protobuf `openapi.v2.Document`)
 * to learn that PATCH of each kind accepts the `fieldValidation` query parameter, i.e. that the
 * server validates fields itself. Only paths, PATCH operations, their parameters and the
 * `x-kubernetes-group-version-kind` extension are encoded; definitions are left empty, so
 * kubectl computes apply patches from its compiled-in types. Field numbers follow
 * google/gnostic openapiv2/OpenAPIv2.proto.
 */
import type { Registry } from './registry.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited field (wire type 2). */
function field(num: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from([...varint(num * 8 + 2), ...varint(body.length)]), body]);
}

function queryParam(name: string): Buffer {
  // ParametersItem.parameter(1) → Parameter.non_body_parameter(2) → NonBodyParameter.query_parameter_sub_schema(3)
  const sub = Buffer.concat([field(2, 'query'), field(4, name), field(6, 'string')]);
  return field(8, field(1, field(2, field(3, sub))));
}

function gvkExtension(group: string, version: string, kind: string): Buffer {
  const yaml = `group: ${JSON.stringify(group)}\nkind: ${kind}\nversion: ${version}\n`;
  // Operation.vendor_extension(13) → NamedAny{name(1), value(2): Any{yaml(2)}}
  return field(13, Buffer.concat([field(1, 'x-kubernetes-group-version-kind'), field(2, field(2, yaml))]));
}

export function openApiV2Protobuf(registry: Registry): Buffer {
  const paths: Buffer[] = [];
  for (const info of registry.all()) {
    if (!info.verbs.includes('patch')) continue;
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const path = info.namespaced ? `${prefix}/namespaces/{namespace}/${info.resource}/{name}` : `${prefix}/${info.resource}/{name}`;
    const op = Buffer.concat([
      field(5, `patch${info.kind}`),
      ...['dryRun', 'fieldManager', 'fieldValidation', 'force'].map(queryParam),
      gvkExtension(info.group, info.version, info.kind),
    ]);
    const pathItem = field(8, op); // PathItem.patch(8)
    paths.push(field(2, Buffer.concat([field(1, path), field(2, pathItem)]))); // Paths.path(2): NamedPathItem
  }
  const info = Buffer.concat([field(1, 'Kubernetes'), field(2, 'v1.33.0')]);
  return Buffer.concat([field(1, '2.0'), field(2, info), field(8, Buffer.concat(paths))]);
}

export function openApiV2Json(registry: Registry): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const info of registry.all()) {
    if (!info.verbs.includes('patch')) continue;
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const path = info.namespaced ? `${prefix}/namespaces/{namespace}/${info.resource}/{name}` : `${prefix}/${info.resource}/{name}`;
    paths[path] = {
      patch: {
        operationId: `patch${info.kind}`,
        parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({ name, in: 'query', type: 'string', uniqueItems: true })),
        responses: { '200': { description: 'OK' } },
        'x-kubernetes-group-version-kind': { group: info.group, kind: info.kind, version: info.version },
      },
    };
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.33.0' }, paths, definitions: {} };
}
