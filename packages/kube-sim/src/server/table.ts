/** Server-side printing: the `Table` (meta.k8s.io/v1) kubectl asks for with `as=Table`. */
import type { KubeObject } from '../store-api.js';
import type { ResourceInfo } from '../discovery/registry.js';
import { labelSelectorToString } from '../store/selectors.js';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Obj = Record<string, unknown>;
type Cell = string | number | boolean | null;

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ''}`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y${d % 365 ? `${d % 365}d` : ''}`;
}

const col = (name: string, type = 'string', priority = 0, format = '', description = ''): Column => ({ name, type, format, description: description || name, priority });
const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace.');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

function containers(o: KubeObject): Obj[] {
  return ((o.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
}
function tmplContainers(o: KubeObject): Obj[] {
  const t = (o.spec as Obj | undefined)?.template as Obj | undefined;
  return ((t?.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? [];
}
const names = (cs: Obj[]) => cs.map((c) => String(c.name)).join(',');
const images = (cs: Obj[]) => cs.map((c) => String(c.image)).join(',');
const st = (o: KubeObject) => (o.status ?? {}) as Obj;
const sp = (o: KubeObject) => (o.spec ?? {}) as Obj;
const num = (v: unknown) => (typeof v === 'number' ? v : 0);

function servicePorts(o: KubeObject): string {
  const ports = (sp(o).ports as Obj[] | undefined) ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function selectorString(sel: unknown): string {
  if (!sel || typeof sel !== 'object') return '<none>';
  const s = 'matchLabels' in sel || 'matchExpressions' in sel ? labelSelectorToString(sel as Parameters<typeof labelSelectorToString>[0]) : Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
  return s || '<none>';
}

const PRINTERS: Record<string, { columns: Column[]; cells: (o: KubeObject) => Cell[] }> = {
  '/pods': {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts'), AGE, col('IP', 'string', 1), col('Node', 'string', 1), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
    cells: (o) => {
      const cs = (st(o).containerStatuses as Obj[] | undefined) ?? [];
      const ready = cs.filter((c) => c.ready).length;
      const restarts = cs.reduce((a, c) => a + num(c.restartCount), 0);
      const phase = o.metadata.deletionTimestamp ? 'Terminating' : String(st(o).phase ?? 'Pending');
      return [o.metadata.name!, `${ready}/${containers(o).length}`, phase, String(restarts), age(o.metadata.creationTimestamp), String(st(o).podIP ?? '<none>'), String(sp(o).nodeName ?? '<none>'), '<none>', '<none>'];
    },
  },
  '/events': {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), col('Subobject', 'string', 1), col('Source', 'string', 1), col('First Seen', 'string', 1), col('Count', 'integer', 1), col('Name', 'string', 1, 'name')],
    cells: (o) => {
      const e = o as Obj & KubeObject;
      const inv = (e.involvedObject ?? {}) as Obj;
      const last = String(e.lastTimestamp ?? e.eventTime ?? o.metadata.creationTimestamp ?? '');
      const first = String(e.firstTimestamp ?? e.eventTime ?? o.metadata.creationTimestamp ?? '');
      const src = (e.source ?? {}) as Obj;
      return [age(last), String(e.type ?? ''), String(e.reason ?? ''), `${String(inv.kind ?? '').toLowerCase()}/${String(inv.name ?? '')}`, String(e.message ?? ''), String(inv.fieldPath ?? ''), String(src.component ?? e.reportingComponent ?? ''), age(first), num(e.count) || 1, o.metadata.name!];
    },
  },
  'apps/deployments': {
    columns: [NAME, col('Ready'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o) => [o.metadata.name!, `${num(st(o).readyReplicas)}/${num(sp(o).replicas)}`, num(st(o).updatedReplicas), num(st(o).availableReplicas), age(o.metadata.creationTimestamp), names(tmplContainers(o)), images(tmplContainers(o)), selectorString(sp(o).selector)],
  },
  'apps/replicasets': {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o) => [o.metadata.name!, num(sp(o).replicas), num(st(o).replicas), num(st(o).readyReplicas), age(o.metadata.creationTimestamp), names(tmplContainers(o)), images(tmplContainers(o)), selectorString(sp(o).selector)],
  },
  'apps/statefulsets': {
    columns: [NAME, col('Ready'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
    cells: (o) => [o.metadata.name!, `${num(st(o).readyReplicas)}/${num(sp(o).replicas)}`, age(o.metadata.creationTimestamp), names(tmplContainers(o)), images(tmplContainers(o))],
  },
  'apps/daemonsets': {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Ready', 'integer'), col('Up-to-date', 'integer'), col('Available', 'integer'), col('Node Selector'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o) => {
      const s = st(o);
      const tspec = ((sp(o).template as Obj | undefined)?.spec as Obj | undefined) ?? {};
      return [o.metadata.name!, num(s.desiredNumberScheduled), num(s.currentNumberScheduled), num(s.numberReady), num(s.updatedNumberScheduled), num(s.numberAvailable), selectorString(tspec.nodeSelector), age(o.metadata.creationTimestamp), names(tmplContainers(o)), images(tmplContainers(o)), selectorString(sp(o).selector)];
    },
  },
  'batch/jobs': {
    columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
    cells: (o) => {
      const s = st(o);
      const conds = (s.conditions as Obj[] | undefined) ?? [];
      const status = conds.find((c) => c.type === 'Complete' && c.status === 'True') ? 'Complete' : conds.find((c) => c.type === 'Failed' && c.status === 'True') ? 'Failed' : 'Running';
      const start = s.startTime ? Date.parse(String(s.startTime)) : undefined;
      const end = s.completionTime ? Date.parse(String(s.completionTime)) : Date.now();
      return [o.metadata.name!, status, `${num(s.succeeded)}/${num(sp(o).completions) || 1}`, start ? age(new Date(start).toISOString(), end) : '', age(o.metadata.creationTimestamp), names(tmplContainers(o)), images(tmplContainers(o)), selectorString(sp(o).selector)];
    },
  },
  'batch/cronjobs': {
    columns: [NAME, col('Schedule'), col('Timezone'), col('Suspend', 'boolean'), col('Active', 'integer'), col('Last Schedule'), AGE],
    cells: (o) => [o.metadata.name!, String(sp(o).schedule ?? ''), String(sp(o).timeZone ?? '<none>'), Boolean(sp(o).suspend), ((st(o).active as unknown[]) ?? []).length, st(o).lastScheduleTime ? age(String(st(o).lastScheduleTime)) : '<none>', age(o.metadata.creationTimestamp)],
  },
  '/services': {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    cells: (o) => {
      const type = String(sp(o).type ?? 'ClusterIP');
      const lb = ((st(o).loadBalancer as Obj | undefined)?.ingress as Obj[] | undefined) ?? [];
      const external = type === 'LoadBalancer' ? (lb.map((i) => i.ip ?? i.hostname).join(',') || '<pending>') : type === 'ExternalName' ? String(sp(o).externalName) : '<none>';
      return [o.metadata.name!, type, String(sp(o).clusterIP ?? '<none>'), external, servicePorts(o), age(o.metadata.creationTimestamp), selectorString(sp(o).selector)];
    },
  },
  '/namespaces': {
    columns: [NAME, col('Status'), AGE],
    cells: (o) => [o.metadata.name!, String(st(o).phase ?? 'Active'), age(o.metadata.creationTimestamp)],
  },
  '/configmaps': {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (o) => [o.metadata.name!, Object.keys((o.data as Obj) ?? {}).length + Object.keys((o.binaryData as Obj) ?? {}).length, age(o.metadata.creationTimestamp)],
  },
  '/secrets': {
    columns: [NAME, col('Type'), col('Data', 'integer'), AGE],
    cells: (o) => [o.metadata.name!, String(o.type ?? 'Opaque'), Object.keys((o.data as Obj) ?? {}).length, age(o.metadata.creationTimestamp)],
  },
  '/serviceaccounts': {
    columns: [NAME, col('Secrets', 'integer'), AGE],
    cells: (o) => [o.metadata.name!, ((o.secrets as unknown[]) ?? []).length, age(o.metadata.creationTimestamp)],
  },
  '/persistentvolumeclaims': {
    columns: [NAME, col('Status'), col('Volume'), col('Capacity'), col('Access Modes'), col('StorageClass'), col('VolumeAttributesClass'), AGE, col('VolumeMode', 'string', 1)],
    cells: (o) => [o.metadata.name!, String(st(o).phase ?? 'Pending'), String(sp(o).volumeName ?? ''), String(((st(o).capacity as Obj | undefined)?.storage as string) ?? ''), accessModes(st(o).accessModes), String(sp(o).storageClassName ?? '<unset>'), '<unset>', age(o.metadata.creationTimestamp), String(sp(o).volumeMode ?? 'Filesystem')],
  },
  '/persistentvolumes': {
    columns: [NAME, col('Capacity'), col('Access Modes'), col('Reclaim Policy'), col('Status'), col('Claim'), col('StorageClass'), col('VolumeAttributesClass'), col('Reason'), AGE, col('VolumeMode', 'string', 1)],
    cells: (o) => {
      const ref = sp(o).claimRef as Obj | undefined;
      return [o.metadata.name!, String(((sp(o).capacity as Obj | undefined)?.storage as string) ?? ''), accessModes(sp(o).accessModes), String(sp(o).persistentVolumeReclaimPolicy ?? ''), String(st(o).phase ?? ''), ref ? `${ref.namespace}/${ref.name}` : '', String(sp(o).storageClassName ?? ''), '<unset>', String(st(o).reason ?? ''), age(o.metadata.creationTimestamp), String(sp(o).volumeMode ?? 'Filesystem')];
    },
  },
  '/nodes': {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version'), col('Internal-IP', 'string', 1), col('External-IP', 'string', 1), col('OS-Image', 'string', 1), col('Kernel-Version', 'string', 1), col('Container-Runtime', 'string', 1)],
    cells: (o) => {
      const ready = ((st(o).conditions as Obj[] | undefined) ?? []).find((c) => c.type === 'Ready');
      const info = (st(o).nodeInfo ?? {}) as Obj;
      const addr = ((st(o).addresses as Obj[] | undefined) ?? []).find((a) => a.type === 'InternalIP');
      const roles = Object.keys(o.metadata.labels ?? {}).filter((l) => l.startsWith('node-role.kubernetes.io/')).map((l) => l.slice(24)).join(',') || '<none>';
      return [o.metadata.name!, ready?.status === 'True' ? 'Ready' : 'NotReady', roles, age(o.metadata.creationTimestamp), String(info.kubeletVersion ?? ''), String(addr?.address ?? '<none>'), '<none>', String(info.osImage ?? ''), String(info.kernelVersion ?? ''), String(info.containerRuntimeVersion ?? '')];
    },
  },
  'storage.k8s.io/storageclasses': {
    columns: [NAME, col('Provisioner'), col('ReclaimPolicy'), col('VolumeBindingMode'), col('AllowVolumeExpansion', 'boolean'), AGE],
    cells: (o) => {
      const isDefault = o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true';
      return [`${o.metadata.name}${isDefault ? ' (default)' : ''}`, String(o.provisioner ?? ''), String(o.reclaimPolicy ?? 'Delete'), String(o.volumeBindingMode ?? 'Immediate'), Boolean(o.allowVolumeExpansion), age(o.metadata.creationTimestamp)];
    },
  },
  'rbac.authorization.k8s.io/rolebindings': {
    columns: [NAME, col('Role'), AGE, col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
    cells: (o) => bindingCells(o),
  },
  'rbac.authorization.k8s.io/clusterrolebindings': {
    columns: [NAME, col('Role'), AGE, col('Users', 'string', 1), col('Groups', 'string', 1), col('ServiceAccounts', 'string', 1)],
    cells: (o) => bindingCells(o),
  },
  'rbac.authorization.k8s.io/clusterroles': {
    columns: [NAME, col('Created At', 'date')],
    cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
  },
  'rbac.authorization.k8s.io/roles': {
    columns: [NAME, col('Created At', 'date')],
    cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
  },
  'networking.k8s.io/networkpolicies': {
    columns: [NAME, col('Pod-Selector'), AGE],
    cells: (o) => [o.metadata.name!, selectorString(sp(o).podSelector) === '<none>' ? '<none>' : selectorString(sp(o).podSelector), age(o.metadata.creationTimestamp)],
  },
  'apiextensions.k8s.io/customresourcedefinitions': {
    columns: [NAME, col('Created At', 'date')],
    cells: (o) => [o.metadata.name!, o.metadata.creationTimestamp ?? ''],
  },
};

function bindingCells(o: KubeObject): Cell[] {
  const subjects = (o.subjects as Obj[] | undefined) ?? [];
  const of = (k: string) => subjects.filter((s) => s.kind === k).map((s) => (k === 'ServiceAccount' ? `${s.namespace}/${s.name}` : String(s.name))).join(', ');
  const ref = o.roleRef as Obj;
  return [o.metadata.name!, `${ref.kind}/${ref.name}`, age(o.metadata.creationTimestamp), of('User'), of('Group'), of('ServiceAccount')];
}

function accessModes(v: unknown): string {
  const abbr: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };
  return ((v as string[] | undefined) ?? []).map((m) => abbr[m] ?? m).join(',');
}

/** Evaluates the simple JSONPath of additionalPrinterColumns (`.spec.foo`, `.status.conditions[0].type`). */
function jsonPath(o: unknown, path: string): Cell {
  let cur: unknown = o;
  for (const part of path.replace(/^\./, '').split('.').filter(Boolean)) {
    const m = part.match(/^([^[]+)((\[\d+\])*)$/);
    if (!m) return null;
    cur = (cur as Obj | undefined)?.[m[1]];
    for (const idx of m[2].match(/\d+/g) ?? []) cur = (cur as unknown[] | undefined)?.[Number(idx)];
  }
  if (cur === undefined || cur === null) return null;
  return typeof cur === 'object' ? JSON.stringify(cur) : (cur as Cell);
}

function printerFor(info: ResourceInfo): { columns: Column[]; cells: (o: KubeObject) => Cell[] } {
  const p = PRINTERS[`${info.group}/${info.resource}`];
  if (p) return p;
  if (info.printerColumns?.length) {
    const pcs = info.printerColumns;
    const hasAge = pcs.some((c) => c.jsonPath === '.metadata.creationTimestamp');
    return {
      columns: [NAME, ...pcs.map((c) => col(c.name, c.type === 'date' ? 'string' : c.type, c.priority ?? 0, c.format ?? '', c.description ?? c.name)), ...(hasAge ? [] : [AGE])],
      cells: (o) => [
        o.metadata.name!,
        ...pcs.map((c) => {
          const v = jsonPath(o, c.jsonPath);
          return c.type === 'date' && typeof v === 'string' ? age(v) : v;
        }),
        ...(hasAge ? [] : [age(o.metadata.creationTimestamp)]),
      ],
    };
  }
  return { columns: [NAME, AGE], cells: (o) => [o.metadata.name!, age(o.metadata.creationTimestamp)] };
}

export function toTable(info: ResourceInfo, objects: KubeObject[], listMeta: Obj, includeObject: string): Obj {
  const printer = printerFor(info);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: includeObject === 'None' && objects.length === 0 ? printer.columns : printer.columns,
    rows: objects.map((o) => ({
      cells: printer.cells(o),
      object:
        includeObject === 'Object'
          ? o
          : includeObject === 'None'
            ? undefined
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}
