/**
 * Decoding of the Kubernetes protobuf request bodies that kubectl ≥ 1.32 sends from its typed
 * clients (client-go defaults to `application/vnd.kubernetes.protobuf` for built-in types):
 * access and identity reviews (`auth can-i`, `auth whoami`), token requests and the fields the
 * `kubectl create <kind>` generators set (namespace, configmap, secret, serviceaccount,
 * deployment, service, job, cronjob, role(binding), clusterrole(binding), quota,
 * priorityclass, poddisruptionbudget, ingress). Responses stay JSON, which client-go accepts.
 * Field numbers are those of k8s.io/api generated.proto; unknown fields are skipped.
 */
import { ApiError } from '../store/errors.js';

type Scalar = 'string' | 'bytes' | 'bool' | 'int' | 'intOrString' | 'quantity';
type FieldType = Scalar | Schema | { map: Scalar | Schema };
interface Field {
  name: string;
  type: FieldType;
  repeated?: boolean;
  /** Keep 0/false (pointer fields such as replicas); other zero values are defaults gogo-proto always writes. */
  keepZero?: boolean;
  /** An embedded struct whose fields appear inline in JSON (IngressRule.IngressRuleValue). */
  inline?: boolean;
}
interface Schema {
  [field: number]: Field;
}

const f = (name: string, type: FieldType, extra: Partial<Field> = {}): Field => ({ name, type, ...extra });
const list = (name: string, type: FieldType): Field => ({ name, type, repeated: true });

const TypeMeta: Schema = { 1: f('apiVersion', 'string'), 2: f('kind', 'string') };
const Unknown: Schema = { 1: f('typeMeta', TypeMeta), 2: f('raw', 'bytes'), 3: f('contentEncoding', 'string'), 4: f('contentType', 'string') };
const LocalObjectReference: Schema = { 1: f('name', 'string') };
const ObjectReference: Schema = {
  1: f('kind', 'string'),
  2: f('namespace', 'string'),
  3: f('name', 'string'),
  4: f('uid', 'string'),
  5: f('apiVersion', 'string'),
  6: f('resourceVersion', 'string'),
  7: f('fieldPath', 'string'),
};
const ObjectMeta: Schema = {
  1: f('name', 'string'),
  2: f('generateName', 'string'),
  3: f('namespace', 'string'),
  5: f('uid', 'string'),
  6: f('resourceVersion', 'string'),
  11: f('labels', { map: 'string' }),
  12: f('annotations', { map: 'string' }),
  14: list('finalizers', 'string'),
};
const LabelSelector: Schema = {
  1: f('matchLabels', { map: 'string' }),
  2: list('matchExpressions', { 1: f('key', 'string'), 2: f('operator', 'string'), 3: list('values', 'string') }),
};
const ResourceAttributes: Schema = {
  1: f('namespace', 'string'),
  2: f('verb', 'string'),
  3: f('group', 'string'),
  4: f('version', 'string'),
  5: f('resource', 'string'),
  6: f('subresource', 'string'),
  7: f('name', 'string'),
};
const NonResourceAttributes: Schema = { 1: f('path', 'string'), 2: f('verb', 'string') };
const ContainerPort: Schema = { 1: f('name', 'string'), 2: f('hostPort', 'int'), 3: f('containerPort', 'int'), 4: f('protocol', 'string'), 5: f('hostIP', 'string') };
const Container: Schema = {
  1: f('name', 'string'),
  2: f('image', 'string'),
  3: list('command', 'string'),
  4: list('args', 'string'),
  5: f('workingDir', 'string'),
  6: list('ports', ContainerPort),
  7: list('env', { 1: f('name', 'string'), 2: f('value', 'string') }),
  8: f('resources', { 1: f('limits', { map: 'quantity' }), 2: f('requests', { map: 'quantity' }) }),
  9: list('volumeMounts', { 1: f('name', 'string'), 2: f('readOnly', 'bool'), 3: f('mountPath', 'string'), 4: f('subPath', 'string') }),
  13: f('terminationMessagePath', 'string'),
  14: f('imagePullPolicy', 'string'),
  16: f('stdin', 'bool'),
  17: f('stdinOnce', 'bool'),
  18: f('tty', 'bool'),
  20: f('terminationMessagePolicy', 'string'),
};
const PodSpec: Schema = {
  2: list('containers', Container),
  3: f('restartPolicy', 'string'),
  4: f('terminationGracePeriodSeconds', 'int', { keepZero: true }),
  6: f('dnsPolicy', 'string'),
  7: f('nodeSelector', { map: 'string' }),
  8: f('serviceAccountName', 'string'),
  10: f('nodeName', 'string'),
  20: list('initContainers', Container),
};
const PodTemplateSpec: Schema = { 1: f('metadata', ObjectMeta), 2: f('spec', PodSpec) };
const JobSpec: Schema = {
  1: f('parallelism', 'int', { keepZero: true }),
  2: f('completions', 'int', { keepZero: true }),
  3: f('activeDeadlineSeconds', 'int'),
  4: f('selector', LabelSelector),
  5: f('manualSelector', 'bool'),
  6: f('template', PodTemplateSpec),
  7: f('backoffLimit', 'int', { keepZero: true }),
  8: f('ttlSecondsAfterFinished', 'int', { keepZero: true }),
};
const PolicyRule: Schema = {
  1: list('verbs', 'string'),
  2: list('apiGroups', 'string'),
  3: list('resources', 'string'),
  4: list('resourceNames', 'string'),
  5: list('nonResourceURLs', 'string'),
};
const Subject: Schema = { 1: f('kind', 'string'), 2: f('apiGroup', 'string'), 3: f('name', 'string'), 4: f('namespace', 'string') };
const RoleRef: Schema = { 1: f('apiGroup', 'string'), 2: f('kind', 'string'), 3: f('name', 'string') };
const Binding: Schema = { 1: f('metadata', ObjectMeta), 2: list('subjects', Subject), 3: f('roleRef', RoleRef) };

const SCHEMAS: Record<string, Schema> = {
  'authorization.k8s.io/SelfSubjectAccessReview': {
    1: f('metadata', ObjectMeta),
    2: f('spec', { 1: f('resourceAttributes', ResourceAttributes), 2: f('nonResourceAttributes', NonResourceAttributes) }),
  },
  'authorization.k8s.io/SelfSubjectRulesReview': { 1: f('metadata', ObjectMeta), 2: f('spec', { 1: f('namespace', 'string') }) },
  'authentication.k8s.io/SelfSubjectReview': { 1: f('metadata', ObjectMeta) },
  'authentication.k8s.io/TokenRequest': {
    1: f('metadata', ObjectMeta),
    2: f('spec', { 1: list('audiences', 'string'), 3: f('boundObjectRef', { 1: f('kind', 'string'), 2: f('apiVersion', 'string'), 3: f('name', 'string'), 4: f('uid', 'string') }), 4: f('expirationSeconds', 'int') }),
  },
  '/Namespace': { 1: f('metadata', ObjectMeta), 2: f('spec', { 1: list('finalizers', 'string') }) },
  '/ConfigMap': { 1: f('metadata', ObjectMeta), 2: f('data', { map: 'string' }), 3: f('binaryData', { map: 'bytes' }), 4: f('immutable', 'bool') },
  '/Secret': { 1: f('metadata', ObjectMeta), 2: f('data', { map: 'bytes' }), 3: f('type', 'string'), 4: f('stringData', { map: 'string' }), 5: f('immutable', 'bool') },
  '/ServiceAccount': {
    1: f('metadata', ObjectMeta),
    2: list('secrets', ObjectReference),
    3: list('imagePullSecrets', LocalObjectReference),
    4: f('automountServiceAccountToken', 'bool', { keepZero: true }),
  },
  '/Pod': { 1: f('metadata', ObjectMeta), 2: f('spec', PodSpec) },
  '/Service': {
    1: f('metadata', ObjectMeta),
    2: f('spec', {
      1: list('ports', { 1: f('name', 'string'), 2: f('protocol', 'string'), 3: f('port', 'int'), 4: f('targetPort', 'intOrString'), 5: f('nodePort', 'int') }),
      2: f('selector', { map: 'string' }),
      3: f('clusterIP', 'string'),
      4: f('type', 'string'),
      5: list('externalIPs', 'string'),
      7: f('sessionAffinity', 'string'),
      8: f('loadBalancerIP', 'string'),
      10: f('externalName', 'string'),
    }),
  },
  '/ResourceQuota': { 1: f('metadata', ObjectMeta), 2: f('spec', { 1: f('hard', { map: 'quantity' }), 2: list('scopes', 'string') }) },
  'apps/Deployment': {
    1: f('metadata', ObjectMeta),
    2: f('spec', {
      1: f('replicas', 'int', { keepZero: true }),
      2: f('selector', LabelSelector),
      3: f('template', PodTemplateSpec),
      4: f('strategy', { 1: f('type', 'string') }),
      5: f('minReadySeconds', 'int'),
      6: f('revisionHistoryLimit', 'int', { keepZero: true }),
      7: f('paused', 'bool'),
      9: f('progressDeadlineSeconds', 'int', { keepZero: true }),
    }),
  },
  'batch/Job': { 1: f('metadata', ObjectMeta), 2: f('spec', JobSpec) },
  'batch/CronJob': {
    1: f('metadata', ObjectMeta),
    2: f('spec', {
      1: f('schedule', 'string'),
      2: f('startingDeadlineSeconds', 'int'),
      3: f('concurrencyPolicy', 'string'),
      4: f('suspend', 'bool', { keepZero: true }),
      5: f('jobTemplate', { 1: f('metadata', ObjectMeta), 2: f('spec', JobSpec) }),
      6: f('successfulJobsHistoryLimit', 'int', { keepZero: true }),
      7: f('failedJobsHistoryLimit', 'int', { keepZero: true }),
      8: f('timeZone', 'string'),
    }),
  },
  'rbac.authorization.k8s.io/Role': { 1: f('metadata', ObjectMeta), 2: list('rules', PolicyRule) },
  'rbac.authorization.k8s.io/ClusterRole': {
    1: f('metadata', ObjectMeta),
    2: list('rules', PolicyRule),
    3: f('aggregationRule', { 1: list('clusterRoleSelectors', LabelSelector) }),
  },
  'rbac.authorization.k8s.io/RoleBinding': Binding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': Binding,
  'scheduling.k8s.io/PriorityClass': {
    1: f('metadata', ObjectMeta),
    2: f('value', 'int', { keepZero: true }),
    3: f('globalDefault', 'bool'),
    4: f('description', 'string'),
    5: f('preemptionPolicy', 'string'),
  },
  'policy/PodDisruptionBudget': {
    1: f('metadata', ObjectMeta),
    2: f('spec', { 1: f('minAvailable', 'intOrString'), 2: f('selector', LabelSelector), 3: f('maxUnavailable', 'intOrString') }),
  },
  'networking.k8s.io/Ingress': {
    1: f('metadata', ObjectMeta),
    2: f('spec', {
      2: list('tls', { 1: list('hosts', 'string'), 2: f('secretName', 'string') }),
      3: list('rules', {
        1: f('host', 'string'),
        2: f(
          'ingressRuleValue',
          {
            1: f('http', {
              1: list('paths', {
                1: f('path', 'string'),
                2: f('backend', { 4: f('service', { 1: f('name', 'string'), 2: f('port', { 1: f('name', 'string'), 2: f('number', 'int') }) }) }),
                3: f('pathType', 'string'),
              }),
            }),
          },
          { inline: true },
        ),
      }),
      4: f('ingressClassName', 'string'),
    }),
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

function isEmpty(v: unknown): boolean {
  return v === undefined || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

function decodeValue(r: Reader, wire: number, t: Scalar | Schema): unknown {
  if (t === 'bool') return r.varint() !== 0;
  if (t === 'int') {
    const n = r.varint();
    return n >= 2 ** 63 ? n - 2 ** 64 : n;
  }
  if (wire !== 2) {
    r.skip(wire);
    return undefined;
  }
  if (t === 'string') return Buffer.from(r.bytes()).toString('utf8');
  if (t === 'bytes') return Buffer.from(r.bytes()).toString('base64');
  if (t === 'quantity') return (decode(r.bytes(), { 1: f('string', 'string') }).string as string | undefined) ?? '0';
  if (t === 'intOrString') {
    const v = decode(r.bytes(), { 1: f('type', 'int', { keepZero: true }), 2: f('intVal', 'int', { keepZero: true }), 3: f('strVal', 'string') });
    return v.type === 1 ? (v.strVal ?? '') : (v.intVal ?? 0);
  }
  return decode(r.bytes(), t);
}

function decode(buf: Uint8Array, schema: Schema): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = r.varint();
    const num = Math.floor(tag / 8);
    const wire = tag & 7;
    const field = schema[num];
    if (!field) {
      r.skip(wire);
      continue;
    }
    const t = field.type;
    if (typeof t === 'object' && 'map' in t) {
      const entry = decode(r.bytes(), { 1: f('k', 'string'), 2: f('v', t.map as Scalar | Schema, { keepZero: true }) });
      const map = (out[field.name] ??= {}) as Record<string, unknown>;
      map[String(entry.k ?? '')] = entry.v ?? '';
      continue;
    }
    const value = decodeValue(r, wire, t as Scalar | Schema);
    if (field.repeated) {
      ((out[field.name] ??= []) as unknown[]).push(value ?? '');
      continue;
    }
    if (field.inline && value && typeof value === 'object') {
      Object.assign(out, value);
      continue;
    }
    // gogo-proto writes every non-pointer field, so "", 0, false and {} mean "not set"
    if (value === '' || isEmpty(value) || ((value === 0 || value === false) && !field.keepZero)) continue;
    out[field.name] = value;
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
