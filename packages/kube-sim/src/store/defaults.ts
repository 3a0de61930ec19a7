/**
 * What a real cluster adds on its own: defaulted fields, allocated Service IPs and node ports,
 * the `default` ServiceAccount and `kube-root-ca.crt` ConfigMap in every namespace, CRD
 * registration, Job selectors.
 */
import type { KubeObject } from '../store-api.js';
import type { ResourceInfo } from '../discovery/registry.js';
import { ApiError, invalid } from './errors.js';
import { deepEqual } from './patch.js';
import type { Store, StoreHooks } from './store.js';
import { ServiceAllocations } from './allocations.js';

export const SERVICE_CIDR_BASE = [10, 96, 0, 0];
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;
export const DEFAULT_STORAGE_CLASS = 'standard';

type Obj = Record<string, unknown>;

function ipOf(n: number): string {
  return `10.${96 + ((n >> 16) & 0x0f)}.${(n >> 8) & 0xff}.${n & 0xff}`;
}

function defaultPodSpec(spec: Obj | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  if (spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  for (const list of ['containers', 'initContainers'] as const) {
    for (const c of (spec[list] as Obj[] | undefined) ?? []) {
      const image = String(c.image ?? '');
      const tagged = /:[^/]+$/.test(image) || image.includes('@');
      c.imagePullPolicy ??= !tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol ??= 'TCP';
    }
  }
}

function defaultTemplate(spec: Obj | undefined): void {
  const template = spec?.template as Obj | undefined;
  if (!template) return;
  template.metadata ??= {};
  defaultPodSpec(template.spec as Obj | undefined);
}

export interface DefaultsOptions {
  caCert: string;
  /** Token for a ServiceAccount (fills legacy `kubernetes.io/service-account-token` Secrets). */
  serviceAccountToken?: (namespace: string, name: string) => string;
}

export function defaultHooks(options: DefaultsOptions): StoreHooks {
  return {
    beforeCreate(info, obj, store) {
      const key = `${info.group}/${info.resource}`;
      const spec = obj.spec as Obj | undefined;
      validateObject(key, info.kind, info.group, obj);
      switch (key) {
        case '/namespaces':
          obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name! };
          obj.spec = { finalizers: ['kubernetes'] };
          obj.status = { phase: 'Active' };
          break;
        case '/services':
          defaultService(obj, store);
          break;
        case '/secrets': {
          const secret = obj as Obj;
          secret.type ||= 'Opaque';
          const sa = obj.metadata.annotations?.['kubernetes.io/service-account.name'];
          if (secret.type === 'kubernetes.io/service-account-token' && sa && options.serviceAccountToken) {
            const b64 = (v: string) => Buffer.from(v).toString('base64');
            const saObj = store.peek({ group: '', version: 'v1', resource: 'serviceaccounts' }, obj.metadata.namespace, sa);
            if (saObj) obj.metadata.annotations = { ...obj.metadata.annotations, 'kubernetes.io/service-account.uid': saObj.metadata.uid! };
            secret.data = {
              ...(secret.data as Obj | undefined),
              token: b64(options.serviceAccountToken(obj.metadata.namespace!, sa)),
              'ca.crt': b64(options.caCert),
              namespace: b64(obj.metadata.namespace!),
            };
          }
          break;
        }
        case '/pods':
          defaultPodSpec(spec);
          obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
          break;
        case '/persistentvolumeclaims':
          if (spec) {
            spec.volumeMode ??= 'Filesystem';
            if (spec.storageClassName === undefined && !spec.volumeName) spec.storageClassName = DEFAULT_STORAGE_CLASS;
          }
          obj.status = { phase: 'Pending' };
          break;
        case '/persistentvolumes':
          if (spec) {
            spec.persistentVolumeReclaimPolicy ??= 'Retain';
            spec.volumeMode ??= 'Filesystem';
          }
          obj.status = { phase: spec?.claimRef ? 'Bound' : 'Available' };
          break;
        case 'apps/deployments':
        case 'apps/statefulsets':
        case 'apps/daemonsets':
        case 'apps/replicasets':
        case 'batch/cronjobs':
          defaultWorkload(key, obj);
          break;
        case 'batch/jobs':
          if (spec) defaultJob(obj, spec);
          break;
        case 'apiextensions.k8s.io/customresourcedefinitions':
          validateCrd(obj);
          obj.status = crdStatus(obj);
          break;
        case 'storage.k8s.io/storageclasses':
          (obj as Obj).reclaimPolicy ??= 'Delete';
          (obj as Obj).volumeBindingMode ??= 'Immediate';
          break;
      }
    },
    afterCreate(info, obj, store) {
      if (info.group === '' && info.resource === 'namespaces') {
        const ns = obj.metadata.name!;
        const sa = { group: '', version: 'v1', resource: 'serviceaccounts' };
        const cm = { group: '', version: 'v1', resource: 'configmaps' };
        if (!store.peek(sa, ns, 'default')) store.create(sa, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } });
        if (!store.peek(cm, ns, 'kube-root-ca.crt')) {
          store.create(cm, ns, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'kube-root-ca.crt', annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
            data: { 'ca.crt': options.caCert },
          });
        }
      }
      if (info.group === 'apiextensions.k8s.io' && info.resource === 'customresourcedefinitions') store.registry.addCRD(obj);
    },
    beforeUpdate(info, obj, old, store) {
      const key = `${info.group}/${info.resource}`;
      // report validation and immutability problems together, as the API server does
      const errors: ApiError[] = [];
      for (const check of [() => validateObject(key, info.kind, info.group, obj), () => checkImmutable(key, info.kind, info.group, obj, old)]) {
        try {
          check();
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          errors.push(err);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) {
        const causes = errors.flatMap((e) => e.details?.causes ?? []).map((c) => ({ field: c.field ?? '', message: c.message ?? '', reason: c.reason }));
        throw invalid(info.kind, info.group, obj.metadata.name ?? '', causes);
      }
      if (key === '/services') {
        const spec = (obj.spec ?? {}) as Obj;
        const oldSpec = (old.spec ?? {}) as Obj;
        if (spec.clusterIP === undefined || spec.clusterIP === '') {
          spec.clusterIP = oldSpec.clusterIP;
          spec.clusterIPs = oldSpec.clusterIPs;
        }
        obj.spec = spec;
        defaultService(obj, store, old);
      } else if (key === 'apiextensions.k8s.io/customresourcedefinitions') {
        validateCrd(obj);
        store.registry.addCRD(obj);
        obj.status = crdStatus(obj);
      } else if (key === '/namespaces') {
        obj.spec = old.spec;
      }
    },
    afterDelete(info, obj, store) {
      if (info.group === 'apiextensions.k8s.io' && info.resource === 'customresourcedefinitions') {
        const spec = obj.spec as { group: string; names: { plural: string } };
        const crInfo = store.registry.getAnyVersion(spec.group, spec.names.plural);
        if (crInfo?.custom) store.deleteAllOf(crInfo);
        store.registry.removeCRD(obj);
      }
    },
  };
}

/** Defaults of workload kinds, applied on create and (as the API server does) on update. */
function defaultWorkload(key: string, obj: KubeObject): void {
  const spec = obj.spec as Obj | undefined;
  switch (key) {
    case 'apps/deployments':
      if (spec) {
        spec.replicas ??= 1;
        spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
        spec.revisionHistoryLimit ??= 10;
        spec.progressDeadlineSeconds ??= 600;
        defaultTemplate(spec);
      }
      break;
    case 'apps/statefulsets':
      if (spec) {
        spec.replicas ??= 1;
        spec.podManagementPolicy ??= 'OrderedReady';
        spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
        spec.revisionHistoryLimit ??= 10;
        spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
        for (const t of (spec.volumeClaimTemplates as KubeObject[] | undefined) ?? []) {
          const ts = t.spec as Obj | undefined;
          if (ts) ts.volumeMode ??= 'Filesystem';
          t.apiVersion ??= 'v1';
          t.kind ??= 'PersistentVolumeClaim';
        }
        defaultTemplate(spec);
      }
      break;
    case 'apps/daemonsets':
    case 'apps/replicasets':
      if (spec) {
        if (key === 'apps/replicasets') spec.replicas ??= 1;
        else spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
        spec.revisionHistoryLimit ??= key === 'apps/daemonsets' ? 10 : undefined;
        if (spec.revisionHistoryLimit === undefined) delete spec.revisionHistoryLimit;
        defaultTemplate(spec);
      }
      break;
    case 'batch/cronjobs':
      if (spec) {
        spec.concurrencyPolicy ??= 'Allow';
        spec.suspend ??= false;
        spec.successfulJobsHistoryLimit ??= 3;
        spec.failedJobsHistoryLimit ??= 1;
        const jt = spec.jobTemplate as Obj | undefined;
        defaultTemplate(jt?.spec as Obj | undefined);
      }
      break;
  }
}

const IMMUTABLE = 'field is immutable';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function labelKeyProblem(k: string): string | undefined {
  const parts = k.split('/');
  if (parts.length > 2) return 'a qualified name must consist of alphanumeric characters, \'-\', \'_\' or \'.\', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and \'/\'';
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return 'prefix part must be a lowercase RFC 1123 subdomain';
  if (name.length > 63 || !LABEL_NAME.test(name)) return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63 characters)";
  return undefined;
}

/**
 * The validation real API servers do that clients most often trip over (422 Invalid): label
 * syntax, workload selectors matching template labels, containers with names and images,
 * Service ports, PVC access modes and storage requests.
 */
function validateObject(key: string, kind: string, group: string, obj: KubeObject): void {
  const causes: Array<{ field: string; message: string; reason?: string }> = [];
  const required = (field: string, message = 'Required value') => causes.push({ field, message, reason: 'FieldValueRequired' });
  const checkLabels = (labels: Record<string, string> | undefined, field: string) => {
    for (const [k, v] of Object.entries(labels ?? {})) {
      const p = labelKeyProblem(k);
      if (p) causes.push({ field, message: `Invalid value: "${k}": ${p}` });
      if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
        causes.push({ field, message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (max 63 characters)` });
      }
    }
  };
  const checkPodSpec = (ps: Obj | undefined, field: string) => {
    const containers = (ps?.containers as Obj[] | undefined) ?? [];
    if (containers.length === 0) required(`${field}.containers`);
    containers.forEach((c, i) => {
      if (!c.name) required(`${field}.containers[${i}].name`);
      if (!c.image) required(`${field}.containers[${i}].image`);
    });
  };
  checkLabels(obj.metadata.labels, 'metadata.labels');
  const spec = obj.spec as Obj | undefined;
  switch (key) {
    case '/pods':
      checkPodSpec(spec, 'spec');
      break;
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets': {
      const selector = spec?.selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined;
      const template = spec?.template as { metadata?: { labels?: Record<string, string> }; spec?: Obj } | undefined;
      if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) {
        required('spec.selector');
      } else {
        const labels = template?.metadata?.labels ?? {};
        const mismatch = Object.entries(selector.matchLabels ?? {}).some(([k, v]) => labels[k] !== v);
        if (mismatch) causes.push({ field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\`` });
      }
      checkLabels(template?.metadata?.labels, 'spec.template.metadata.labels');
      checkPodSpec(template?.spec, 'spec.template.spec');
      break;
    }
    case 'batch/jobs':
      checkPodSpec((spec?.template as { spec?: Obj } | undefined)?.spec, 'spec.template.spec');
      break;
    case '/services': {
      const type = spec?.type ?? 'ClusterIP';
      const ports = (spec?.ports as Obj[] | undefined) ?? [];
      if (type !== 'ExternalName' && spec?.clusterIP !== 'None' && ports.length === 0) required('spec.ports');
      ports.forEach((p, i) => {
        if (typeof p.port !== 'number' || p.port < 1 || p.port > 65535) causes.push({ field: `spec.ports[${i}].port`, message: `Invalid value: ${JSON.stringify(p.port ?? null)}: must be between 1 and 65535, inclusive` });
      });
      if (ports.length > 1 && ports.some((p) => !p.name)) required(`spec.ports[${ports.findIndex((p) => !p.name)}].name`);
      break;
    }
    case '/persistentvolumeclaims': {
      if (!((spec?.accessModes as unknown[] | undefined) ?? []).length) required('spec.accessModes', 'Required value: at least 1 access mode is required');
      const storage = ((spec?.resources as Obj | undefined)?.requests as Obj | undefined)?.storage;
      if (storage === undefined) required('spec.resources[storage]');
      break;
    }
  }
  if (causes.length) throw invalid(kind, group, obj.metadata.name ?? '', causes);
}

function omit(o: unknown, keys: string[]): Obj {
  const out = { ...((o ?? {}) as Obj) };
  for (const k of keys) delete out[k];
  return out;
}

/**
 * Fields the API server refuses to change (422 Invalid), the ones restores and upgrades trip
 * over: immutable ConfigMaps/Secrets, Service clusterIP, workload selectors, StatefulSet spec
 * beyond replicas/template/updateStrategy/…, Job selector/template, PVC spec, Pod spec.
 * The incoming object is defaulted first, as the API server does.
 */
function checkImmutable(key: string, kind: string, group: string, obj: KubeObject, old: KubeObject): void {
  const name = obj.metadata.name ?? '';
  const fail = (field: string, message: string) => {
    throw invalid(kind, group, name, [{ field, message }]);
  };
  const spec = (obj.spec ?? {}) as Obj;
  const oldSpec = (old.spec ?? {}) as Obj;
  switch (key) {
    case '/configmaps':
    case '/secrets': {
      if ((old as Obj).immutable !== true) return;
      if (key === '/secrets' && (obj as Obj).stringData) fail('data', 'Forbidden: field is immutable when `immutable` is set');
      for (const f of ['data', 'binaryData', 'immutable', ...(key === '/secrets' ? ['type'] : [])]) {
        if (!deepEqual((obj as Obj)[f] ?? null, (old as Obj)[f] ?? null)) fail(f, 'Forbidden: field is immutable when `immutable` is set');
      }
      return;
    }
    case '/services': {
      const ip = spec.clusterIP as string | undefined;
      const oldIp = oldSpec.clusterIP as string | undefined;
      if (ip && oldIp && ip !== oldIp) fail('spec.clusterIPs[0]', `Invalid value: "${ip}": may not change once set`);
      return;
    }
    case 'apps/deployments':
    case 'apps/replicasets':
    case 'apps/daemonsets':
    case 'apps/statefulsets': {
      defaultWorkload(key, obj);
      if (!deepEqual(spec.selector ?? null, oldSpec.selector ?? null)) fail('spec.selector', `Invalid value: ${JSON.stringify(spec.selector ?? null)}: ${IMMUTABLE}`);
      if (key === 'apps/statefulsets') {
        const mutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
        const strip = (sp: Obj) => {
          const rest = omit(sp, mutable);
          // claim templates compare without their (server-filled) status
          if (Array.isArray(rest.volumeClaimTemplates)) rest.volumeClaimTemplates = (rest.volumeClaimTemplates as Obj[]).map((t) => omit(t, ['status']));
          return rest;
        };
        if (!deepEqual(strip(spec), strip(oldSpec))) {
          fail(
            'spec',
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
          );
        }
      }
      return;
    }
    case 'batch/jobs': {
      defaultPodSpec((spec.template as Obj | undefined)?.spec as Obj | undefined);
      if (!deepEqual(spec.selector ?? null, oldSpec.selector ?? null)) fail('spec.selector', `Invalid value: ${JSON.stringify(spec.selector ?? null)}: ${IMMUTABLE}`);
      if (!deepEqual(spec.template ?? null, oldSpec.template ?? null)) fail('spec.template', `Invalid value: ${JSON.stringify(spec.template ?? null)}: ${IMMUTABLE}`);
      return;
    }
    case '/persistentvolumeclaims': {
      spec.volumeMode ??= 'Filesystem';
      const strip = (sp: Obj) => omit(sp, ['resources', 'volumeAttributesClassName', ...(oldSpec.volumeName ? [] : ['volumeName'])]);
      if (!deepEqual(strip(spec), strip(oldSpec))) {
        fail('spec', 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
      }
      return;
    }
    case '/pods': {
      defaultPodSpec(spec);
      const images = (sp: Obj) =>
        ['containers', 'initContainers'].flatMap((l) => ((sp[l] as Obj[] | undefined) ?? []).map((c) => omit(c, ['image'])));
      const strip = (sp: Obj) => omit(sp, ['containers', 'initContainers', 'activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds', ...(oldSpec.nodeName ? [] : ['nodeName'])]);
      if (!deepEqual(strip(spec), strip(oldSpec)) || !deepEqual(images(spec), images(oldSpec))) {
        fail(
          'spec',
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        );
      }
      return;
    }
  }
}

function validateCrd(obj: KubeObject): void {
  const spec = obj.spec as { group?: string; names?: { plural?: string; kind?: string }; versions?: unknown[]; scope?: string } | undefined;
  const causes: Array<{ field: string; message: string }> = [];
  if (!spec?.group) causes.push({ field: 'spec.group', message: 'Required value' });
  if (!spec?.names?.plural) causes.push({ field: 'spec.names.plural', message: 'Required value' });
  if (!spec?.names?.kind) causes.push({ field: 'spec.names.kind', message: 'Required value' });
  if (!spec?.versions?.length) causes.push({ field: 'spec.versions', message: 'Required value: must have exactly one version marked as storage version' });
  if (spec?.scope !== 'Namespaced' && spec?.scope !== 'Cluster') causes.push({ field: 'spec.scope', message: 'Unsupported value: must be Cluster or Namespaced' });
  if (!causes.length && obj.metadata.name !== `${spec!.names!.plural}.${spec!.group}`) {
    causes.push({ field: 'metadata.name', message: `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group` });
  }
  if (causes.length) throw invalid('CustomResourceDefinition', 'apiextensions.k8s.io', obj.metadata.name ?? '', causes);
}

function crdStatus(obj: KubeObject): Obj {
  const spec = obj.spec as { names: Obj; versions: Array<{ name: string; storage?: boolean }> };
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    acceptedNames: spec.names,
    conditions: [
      { type: 'NamesAccepted', status: 'True', lastTransitionTime: now, reason: 'NoConflicts', message: 'no conflicts found' },
      { type: 'Established', status: 'True', lastTransitionTime: now, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
    ],
    storedVersions: spec.versions.filter((v) => v.storage).map((v) => v.name),
  };
}

function defaultJob(obj: KubeObject, spec: Obj): void {
  spec.parallelism ??= 1;
  spec.completions ??= 1;
  spec.backoffLimit ??= 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  const template = (spec.template ?? {}) as Obj;
  spec.template = template;
  const tmeta = (template.metadata ?? {}) as { labels?: Record<string, string> };
  template.metadata = tmeta;
  if (spec.manualSelector !== true && obj.metadata.uid) {
    const uid = obj.metadata.uid;
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
    tmeta.labels = {
      ...tmeta.labels,
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': obj.metadata.name!,
      'controller-uid': uid,
      'job-name': obj.metadata.name!,
    };
    obj.metadata.labels ??= { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': obj.metadata.name!, 'controller-uid': uid, 'job-name': obj.metadata.name! };
  }
  defaultPodSpec(template.spec as Obj | undefined);
  const ps = template.spec as Obj | undefined;
  if (ps && ps.restartPolicy === 'Always') {
    throw invalid('Job', 'batch', obj.metadata.name ?? '', [
      { field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
    ]);
  }
}

/** Service defaults and allocation of cluster IPs and node ports without collisions. */
function defaultService(obj: KubeObject, store: Store, old?: KubeObject): void {
  const spec = (obj.spec ?? {}) as Obj;
  obj.spec = spec;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  const type = String(spec.type);
  // what the other Services hold (an update does not collide with its own stored version)
  const taken = ServiceAllocations.of(store);
  if (type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    const used = (candidate: string) => candidate === KUBERNETES_SERVICE_IP || taken.ipTaken(candidate, old);
    const ip = spec.clusterIP as string | undefined;
    if (ip && ip !== 'None') {
      if (used(ip) && !(old && (old.spec as Obj | undefined)?.clusterIP === ip) && !(obj.metadata.name === 'kubernetes' && obj.metadata.namespace === 'default' && ip === KUBERNETES_SERVICE_IP)) {
        throw invalid('Service', '', obj.metadata.name ?? '', [{ field: 'spec.clusterIPs', message: `Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated` }]);
      }
    } else if (!ip) {
      let n = 10 + Math.floor(Math.random() * 60000);
      for (let tries = 0; tries < 1 << 20; tries++, n = (n % 0xffffe) + 2) {
        if (!used(ipOf(n))) break;
      }
      spec.clusterIP = ipOf(n);
    }
    spec.clusterIPs = [spec.clusterIP];
  }
  const needsNodePort = type === 'NodePort' || type === 'LoadBalancer';
  const mine = new Set<number>();
  const portUsed = (port: number) => mine.has(port) || taken.nodePortTaken(port, old);
  const oldPorts = new Set<number>(((old?.spec as Obj | undefined)?.ports as Obj[] | undefined)?.map((p) => p.nodePort as number).filter((x) => typeof x === 'number') ?? []);
  for (const p of (spec.ports as Obj[] | undefined) ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined && type !== 'ExternalName') p.targetPort = p.port;
    if (needsNodePort) {
      if (typeof p.nodePort === 'number') {
        if (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX) {
          throw invalid('Service', '', obj.metadata.name ?? '', [{ field: 'spec.ports[0].nodePort', message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}` }]);
        }
        if (portUsed(p.nodePort) && !oldPorts.has(p.nodePort)) {
          throw invalid('Service', '', obj.metadata.name ?? '', [{ field: 'spec.ports[0].nodePort', message: `Invalid value: ${p.nodePort}: provided port is already allocated` }]);
        }
      } else {
        let port = NODE_PORT_MIN + Math.floor(Math.random() * (NODE_PORT_MAX - NODE_PORT_MIN));
        for (let i = 0; portUsed(port) && i < 3000; i++) port = port >= NODE_PORT_MAX ? NODE_PORT_MIN : port + 1;
        if (portUsed(port)) throw new ApiError(500, 'InternalError', 'range is full: no node ports left');
        p.nodePort = port;
      }
      mine.add(p.nodePort as number);
    } else {
      delete p.nodePort;
    }
  }
  if (needsNodePort) spec.externalTrafficPolicy ??= 'Cluster';
  if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (!old) obj.status = { loadBalancer: {} };
}

export function serviceInfoKey(info: ResourceInfo): string {
  return `${info.group}/${info.resource}`;
}
