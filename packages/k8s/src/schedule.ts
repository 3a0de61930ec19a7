/**
 * Scheduled backups in the cluster: build a schedule's objects (./schedule-manifests.ts), apply
 * them (create, or replace the definition of an existing schedule), list schedules from their
 * CronJobs, delete everything a schedule made.
 *
 * Applying and deleting check every permission first (SelfSubjectAccessReview) and refuse
 * objects of the same name that are not this schedule's: nothing is changed unless everything
 * can be. Objects created before a later one fails are removed again.
 */
import { describeLocation } from '@kubectl-backup/engine';
import { FIELD_MANAGER, resourcePath, type KubeClient, type ResourceLocation } from './client.js';
import { assertNamespace, canI } from './context.js';
import { K8sError, canICommand, isK8sError, qualifiedResource, type Permission } from './errors.js';
import { mapLimit } from './rate-limit.js';
import {
  DEFAULT_PASSWORD_KEY,
  RETENTION_FLAGS,
  SCHEDULE_BACKUP_CONTAINER,
  SCHEDULE_ENV_PASSWORD,
  SCHEDULE_ENV_REPOSITORY,
  SCHEDULE_FORGET_CONTAINER,
  SCHEDULE_LABEL,
  SCHEDULE_NAMESPACE_LABEL,
  scheduleLocation,
  scheduleObjectNames,
  type ScheduleRetention,
} from './schedule-manifests.js';
import type { KubeObject } from './types.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './volumes/util.js';

export * from './schedule-manifests.js';
export { validateCron, validateTimeZone, CRON_MACROS } from './cron.js';

export interface ScheduleObjectRef {
  kind: string;
  name: string;
  /** Undefined for cluster-scoped objects. */
  namespace?: string;
}

export interface AppliedScheduleObject extends ScheduleObjectRef {
  action: 'created' | 'updated';
  /** The object as the API server answered (with dryRun: as it would be). */
  object: KubeObject;
}

export interface ApplyScheduleResult {
  dryRun: boolean;
  objects: AppliedScheduleObject[];
}

export interface ScheduleSummary {
  name: string;
  namespace: string;
  schedule: string;
  timeZone?: string;
  suspend: boolean;
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  image: string;
  /** Printable repository location (no query secrets). */
  repository: string;
  passwordSecret: { name: string; key: string };
  credentialsSecret?: string;
  retention?: ScheduleRetention;
  prune: boolean;
  /** The `kubectl-backup` arguments of the backup container. */
  backupArgs: string[];
  created?: string;
}

interface Container {
  name?: string;
  image?: string;
  args?: string[];
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
  }>;
  envFrom?: Array<{ secretRef?: { name?: string } }>;
}

interface CronJobShape extends KubeObject {
  spec?: {
    schedule?: string;
    timeZone?: string;
    suspend?: boolean;
    jobTemplate?: {
      spec?: { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } };
    };
  };
  status?: { lastScheduleTime?: string; lastSuccessfulTime?: string };
}

const SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY},${SCHEDULE_LABEL}`;

function refOf(obj: KubeObject): ScheduleObjectRef {
  const loc = scheduleLocation(obj.kind);
  return {
    kind: obj.kind,
    name: obj.metadata.name ?? '',
    ...(loc.namespaced ? { namespace: obj.metadata.namespace } : {}),
  };
}

/** `cronjob.batch/nightly` style. */
export function scheduleObjectLabel(ref: ScheduleObjectRef): string {
  const loc = scheduleLocation(ref.kind);
  return `${qualifiedResource(ref.kind.toLowerCase(), loc.group)}/${ref.name}`;
}

/** Whether an object is one of this schedule's (by its labels). */
function belongsTo(obj: KubeObject, namespace: string, name: string): boolean {
  const l = obj.metadata.labels ?? {};
  if (l[MANAGED_BY_LABEL] !== MANAGED_BY || l[SCHEDULE_LABEL] !== name) return false;
  return scheduleLocation(obj.kind).namespaced || l[SCHEDULE_NAMESPACE_LABEL] === namespace;
}

function notOurs(ref: ScheduleObjectRef, schedule: string): K8sError {
  const where = ref.namespace ? ` in namespace "${ref.namespace}"` : '';
  return new K8sError(
    'EALREADYEXISTS',
    `${scheduleObjectLabel(ref)}${where} exists and is not part of the kubectl-backup schedule "${schedule}" (no ${SCHEDULE_LABEL}=${schedule} label): nothing was changed; choose another schedule name`,
    { reason: 'AlreadyExists', namespace: ref.namespace, name: ref.name },
  );
}

/** Every missing permission, checked before anything is changed. */
async function preflight(
  client: KubeClient,
  checks: Permission[],
  what: string,
  signal?: AbortSignal,
): Promise<void> {
  const answers = await mapLimit(checks, 6, (p) => canI(client, p, signal));
  const missing = checks.filter((_, i) => !answers[i]);
  if (!missing.length) return;
  const lines = missing.map(
    (p) =>
      `${p.verb} ${qualifiedResource(p.resource, p.group)}${p.namespace ? ` in namespace ${p.namespace}` : ' (cluster-wide)'} (check: ${canICommand(p)})`,
  );
  throw new K8sError(
    'EFORBIDDEN',
    `forbidden: ${what} refused before changing anything; missing permission(s): ${lines.join('; ')}`,
    {
      missing,
      namespace: checks.find((p) => p.namespace)?.namespace,
    },
  );
}

function permission(
  verb: string,
  loc: ResourceLocation,
  namespace: string | undefined,
): Permission {
  return {
    verb,
    group: loc.group,
    resource: loc.resource,
    ...(loc.namespaced && namespace ? { namespace } : {}),
  };
}

/** Reads the existing objects of a manifest list (undefined where absent). */
async function existing(
  client: KubeClient,
  objects: KubeObject[],
  signal?: AbortSignal,
): Promise<Array<KubeObject | undefined>> {
  return Promise.all(
    objects.map((o) =>
      client.getOptional(
        scheduleLocation(o.kind),
        o.metadata.namespace,
        o.metadata.name ?? '',
        signal,
      ),
    ),
  );
}

function scheduleOf(manifests: KubeObject[]): { namespace: string; name: string } {
  const cronJob = manifests.find((o) => o.kind === 'CronJob');
  const name = cronJob?.metadata.labels?.[SCHEDULE_LABEL];
  if (!cronJob || !name || !cronJob.metadata.namespace)
    throw new K8sError(
      'EUSAGE',
      'not the manifests of a schedule (no labelled CronJob): build them with scheduleManifests()',
    );
  return { namespace: cronJob.metadata.namespace, name };
}

/**
 * Creates the schedule's objects, or replaces their definition when they exist (PUT: a
 * setting left out is removed; a concurrent change is a conflict). `dryRun`: the API server
 * validates and answers, nothing is stored. Refuses (ENONAMESPACE, EFORBIDDEN,
 * EALREADYEXISTS) before changing anything.
 */
export async function applySchedule(
  client: KubeClient,
  manifests: KubeObject[],
  options: { dryRun?: boolean; signal?: AbortSignal } = {},
): Promise<ApplyScheduleResult> {
  const { namespace, name } = scheduleOf(manifests);
  const { signal } = options;
  const locations = manifests.map((o) => scheduleLocation(o.kind));
  await assertNamespace(client, namespace, signal);
  await preflight(
    client,
    locations.map((loc) => permission('get', loc, namespace)),
    `applying schedule "${name}"`,
    signal,
  );
  const current = await existing(client, manifests, signal);
  current.forEach((obj, i) => {
    if (obj && !belongsTo(obj, namespace, name)) throw notOurs(refOf(manifests[i]!), name);
  });
  await preflight(
    client,
    manifests.map((_, i) => permission(current[i] ? 'update' : 'create', locations[i]!, namespace)),
    `applying schedule "${name}"`,
    signal,
  );
  const done: AppliedScheduleObject[] = [];
  try {
    for (const [i, obj] of manifests.entries()) {
      const loc = locations[i]!;
      const ns = loc.namespaced ? namespace : undefined;
      const live = current[i];
      const answer = live
        ? await client.request<KubeObject>('PUT', resourcePath(loc, ns, obj.metadata.name), {
            body: replacement(obj, live),
            query: { fieldManager: FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined },
            signal,
            describe: {
              verb: 'update',
              group: loc.group,
              resource: loc.resource,
              namespace: ns,
              name: obj.metadata.name,
            },
          })
        : await client.create(loc, ns, obj, { dryRun: options.dryRun, signal });
      done.push({ ...refOf(obj), action: live ? 'updated' : 'created', object: answer });
    }
  } catch (err) {
    if (!options.dryRun) await removeCreated(client, done);
    throw err;
  }
  return { dryRun: Boolean(options.dryRun), objects: done };
}

/**
 * The new definition of an existing object: the schedule's fields replace the live ones (a
 * setting left out, such as a retention policy, goes away), labels and annotations others
 * added are kept.
 */
function replacement(obj: KubeObject, live: KubeObject): KubeObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      resourceVersion: live.metadata.resourceVersion,
      labels: { ...live.metadata.labels, ...obj.metadata.labels },
      ...(live.metadata.annotations
        ? { annotations: { ...live.metadata.annotations, ...obj.metadata.annotations } }
        : {}),
    },
  };
}

/** Best effort: objects this call created are removed when a later one fails. */
async function removeCreated(client: KubeClient, done: AppliedScheduleObject[]): Promise<void> {
  for (const o of done.filter((d) => d.action === 'created').reverse()) {
    await client.delete(scheduleLocation(o.kind), o.namespace, o.name).catch(() => undefined);
  }
}

function findContainer(cj: CronJobShape, name: string): Container | undefined {
  const spec = cj.spec?.jobTemplate?.spec?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].find(
    (c) => c.name === name,
  );
}

function retentionOf(args: string[]): ScheduleRetention | undefined {
  const out: Record<string, number | string> = {};
  for (const [key, flag] of RETENTION_FLAGS) {
    const i = args.indexOf(flag);
    if (i >= 0 && args[i + 1] !== undefined)
      out[key] = key === 'keepWithin' ? args[i + 1]! : Number(args[i + 1]);
  }
  return Object.keys(out).length ? (out as ScheduleRetention) : undefined;
}

/** What a schedule's CronJob says about it. */
export function scheduleSummary(cronJob: KubeObject): ScheduleSummary {
  const cj = cronJob as CronJobShape;
  const backup = findContainer(cj, SCHEDULE_BACKUP_CONTAINER);
  const forgetArgs = findContainer(cj, SCHEDULE_FORGET_CONTAINER)?.args ?? [];
  const env = (n: string) => backup?.env?.find((e) => e.name === n);
  const password = env(SCHEDULE_ENV_PASSWORD)?.valueFrom?.secretKeyRef;
  const retention = retentionOf(forgetArgs);
  const repository = env(SCHEDULE_ENV_REPOSITORY)?.value ?? '';
  const credentials = backup?.envFrom?.find((e) => e.secretRef?.name)?.secretRef?.name;
  return {
    name: cj.metadata.labels?.[SCHEDULE_LABEL] ?? cj.metadata.name ?? '',
    namespace: cj.metadata.namespace ?? '',
    schedule: cj.spec?.schedule ?? '',
    ...(cj.spec?.timeZone ? { timeZone: cj.spec.timeZone } : {}),
    suspend: cj.spec?.suspend === true,
    ...(cj.status?.lastScheduleTime ? { lastScheduleTime: cj.status.lastScheduleTime } : {}),
    ...(cj.status?.lastSuccessfulTime ? { lastSuccessfulTime: cj.status.lastSuccessfulTime } : {}),
    image: backup?.image ?? '',
    repository: repository && describeLocation(repository),
    passwordSecret: { name: password?.name ?? '', key: password?.key ?? DEFAULT_PASSWORD_KEY },
    ...(credentials ? { credentialsSecret: credentials } : {}),
    ...(retention ? { retention } : {}),
    prune: forgetArgs.includes('--prune'),
    backupArgs: backup?.args ?? [],
    ...(cj.metadata.creationTimestamp ? { created: cj.metadata.creationTimestamp } : {}),
  };
}

/** The schedules of a namespace (undefined: of every namespace), by namespace and name. */
export async function listSchedules(
  client: KubeClient,
  namespace: string | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<ScheduleSummary[]> {
  const cronJobs = await client.listAll(scheduleLocation('CronJob'), namespace, {
    labelSelector: SELECTOR,
    signal: options.signal,
  });
  return cronJobs
    .map(scheduleSummary)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/**
 * Deletes every object of a schedule (the CronJob first, so that no new Job starts; its Jobs
 * and their pods go with it). ENOTFOUND when there is none; objects of the same names that are
 * not the schedule's are refused and left alone.
 */
export async function deleteSchedule(
  client: KubeClient,
  namespace: string,
  name: string,
  options: { signal?: AbortSignal } = {},
): Promise<ScheduleObjectRef[]> {
  const { signal } = options;
  const names = scheduleObjectNames(namespace, name);
  const byKind: Record<string, string> = {
    ServiceAccount: names.serviceAccount,
    Role: names.role,
    RoleBinding: names.roleBinding,
    ClusterRole: names.clusterRole,
    ClusterRoleBinding: names.clusterRoleBinding,
    CronJob: names.cronJob,
  };
  const order = [
    'CronJob',
    'ClusterRoleBinding',
    'ClusterRole',
    'RoleBinding',
    'Role',
    'ServiceAccount',
  ];
  const refs: ScheduleObjectRef[] = order.map((kind) => ({
    kind,
    name: byKind[kind]!,
    ...(scheduleLocation(kind).namespaced ? { namespace } : {}),
  }));
  await preflight(
    client,
    refs.map((r) => permission('get', scheduleLocation(r.kind), namespace)),
    `deleting schedule "${name}"`,
    signal,
  );
  const found = await Promise.all(
    refs.map((r) => client.getOptional(scheduleLocation(r.kind), r.namespace, r.name, signal)),
  );
  const cronJob = found[0];
  if (cronJob && !belongsTo(cronJob, namespace, name)) {
    throw new K8sError(
      'ENOTFOUND',
      `no schedule "${name}" in namespace "${namespace}": cronjob.batch/${name} there is not a kubectl-backup schedule (no ${SCHEDULE_LABEL}=${name} label), so nothing was deleted`,
      { namespace, name },
    );
  }
  const ours = refs.filter((_, i) => found[i] && belongsTo(found[i]!, namespace, name));
  if (!ours.length)
    throw new K8sError(
      'ENOTFOUND',
      `no schedule "${name}" in namespace "${namespace}" (see \`kubectl backup schedule list -n ${namespace}\`)`,
      { namespace, name },
    );
  await preflight(
    client,
    ours.map((r) => permission('delete', scheduleLocation(r.kind), namespace)),
    `deleting schedule "${name}"`,
    signal,
  );
  const deleted: ScheduleObjectRef[] = [];
  for (const r of ours) {
    try {
      await client.delete(scheduleLocation(r.kind), r.namespace, r.name, {
        signal,
        propagationPolicy: 'Background',
      });
      deleted.push(r);
    } catch (err) {
      if (!isK8sError(err, 'ENOTFOUND')) throw err;
    }
  }
  return deleted;
}
