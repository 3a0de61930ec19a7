/**
 * Decoding of the Kubernetes protobuf request bodies that kubectl ≥ 1.32 sends from its typed
 * clients (client-go defaults to `application/vnd.kubernetes.protobuf` for built-in types):
 * access and identity reviews (`auth can-i`, `auth whoami`) and the simple kinds of
 * `kubectl create namespace|configmap|secret|serviceaccount`. Responses stay JSON, which
 * client-go accepts. Field numbers are those of k8s.io/api generated.proto.
 */
import { ApiError } from '../store/errors.js';

type FieldType = 'string' | 'bytes' | 'bool' | 'int' | Schema | { map: 'string' | 'bytes' };
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
interface Schema {
  [field: number]: Field;
}

const TypeMeta: Schema = { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } };
const Unknown: Schema = {
  1: { name: 'typeMeta', type: TypeMeta },
  2: { name: 'raw', type: 'bytes' },
  3: { name: 'contentEncoding', type: 'string' },
  4: { name: 'contentType', type: 'string' },
};
const LocalObjectReference: Schema = { 1: { name: 'name', type: 'string' } };
const ObjectReference: Schema = {
  1: { name: 'kind', type: 'string' },
  2: { name: 'namespace', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'fieldPath', type: 'string' },
};
const ObjectMeta: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  11: { name: 'labels', type: { map: 'string' } },
  12: { name: 'annotations', type: { map: 'string' } },
  14: { name: 'finalizers', type: 'string', repeated: true },
};
const ResourceAttributes: Schema = {
  1: { name: 'namespace', type: 'string' },
  2: { name: 'verb', type: 'string' },
  3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' },
  5: { name: 'resource', type: 'string' },
  6: { name: 'subresource', type: 'string' },
  7: { name: 'name', type: 'string' },
};
const NonResourceAttributes: Schema = { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } };

const SCHEMAS: Record<string, Schema> = {
  'authorization.k8s.io/SelfSubjectAccessReview': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'spec', type: { 1: { name: 'resourceAttributes', type: ResourceAttributes }, 2: { name: 'nonResourceAttributes', type: NonResourceAttributes } } },
  },
  'authorization.k8s.io/SelfSubjectRulesReview': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'spec', type: { 1: { name: 'namespace', type: 'string' } } },
  },
  'authentication.k8s.io/SelfSubjectReview': { 1: { name: 'metadata', type: ObjectMeta } },
  '/Namespace': { 1: { name: 'metadata', type: ObjectMeta }, 2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  '/ConfigMap': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'data', type: { map: 'string' } },
    3: { name: 'binaryData', type: { map: 'bytes' } },
    4: { name: 'immutable', type: 'bool' },
  },
  '/Secret': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'data', type: { map: 'bytes' } },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: { map: 'string' } },
    5: { name: 'immutable', type: 'bool' },
  },
  '/ServiceAccount': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'secrets', type: ObjectReference, repeated: true },
    3: { name: 'imagePullSecrets', type: LocalObjectReference, repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  }
  bytes(): Uint8Array {
    const len = this.varint();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function decode(buf: Uint8Array, schema: Schema): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    const f = schema[num];
    if (!f) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    const t = f.type;
    if (t === 'bool') value = r.varint() !== 0;
    else if (t === 'int') value = r.varint();
    else if (t === 'string') value = Buffer.from(r.bytes()).toString('utf8');
    else if (t === 'bytes') value = Buffer.from(r.bytes()).toString('base64');
    else if ('map' in t) {
      const entry = decode(r.bytes(), { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: t.map as 'string' | 'bytes' } });
      const map = (out[f.name] ??= {}) as Record<string, unknown>;
      map[String(entry.k ?? '')] = entry.v ?? '';
      continue;
    } else value = decode(r.bytes(), t as Schema);
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(value);
    else out[f.name] = value;
  }
  return out;
}

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

/** Decodes a `k8s\0`-prefixed protobuf body into the JSON form of the object. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || body.subarray(0, 4).toString('latin1') !== 'k8s\0') {
    throw new ApiError(400, 'BadRequest', 'protobuf body without the k8s envelope');
  }
  const env = decode(body.subarray(4), Unknown) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
  const apiVersion = env.typeMeta?.apiVersion ?? '';
  const kind = env.typeMeta?.kind ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const schema = SCHEMAS[`${group}/${kind}`];
  if (!schema) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `kube-sim decodes protobuf only for ${Object.keys(SCHEMAS).map((k) => k.split('/')[1]).join(', ')}; send ${kind || 'this object'} as JSON (e.g. kubectl create -f FILE)`,
    );
  }
  const obj = decode(Buffer.from(env.raw ?? '', 'base64'), schema);
  return { apiVersion, kind, ...obj };
}
