/**
 * The objects of a scheduled backup (pure functions, no API calls): a CronJob in the protected
 * namespace whose Job runs `kubectl-backup create -n NS …` from an image, as a ServiceAccount
 * bound to a Role (what `create` reads and makes in the namespace) and a ClusterRole (the
 * cluster-scoped objects a backup records).
 *
 * With a retention policy the Job's pod runs two containers one after the other: `backup` is
 * an init container and `forget` (`kubectl-backup forget -n NS --keep-…`) the main one, so the
 * policy is applied only after a successful backup, and neither needs a shell in the image.
 * Without a policy, `backup` is the only container.
 *
 * The repository password is never in these objects: the containers get it from a Secret
 * (`KUBECTL_BACKUP_PASSWORD` via secretKeyRef), and S3 credentials from another (envFrom).
 */
import {
  VERSION,
  parseStorageUrl,
  parseDuration,
  type RetentionPolicy,
} from '@kubectl-backup/engine';
import type { ResourceLocation } from './client.js';
import { validateCron, validateTimeZone } from './cron.js';
import { K8sError } from './errors.js';
import type { VolumeMode } from './integration.js';
import type { KubeObject } from './types.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './volumes/util.js';

/** Label on every object of a schedule: the schedule's name. */
export const SCHEDULE_LABEL = 'backup.kubectl.io/schedule';
/** Label on the cluster-scoped objects of a schedule: the namespace it protects. */
export const SCHEDULE_NAMESPACE_LABEL = 'backup.kubectl.io/schedule-namespace';
export const DEFAULT_SCHEDULE_IMAGE = `ghcr.io/kubectl-backup/kubectl-backup:${VERSION}`;
export const DEFAULT_PASSWORD_KEY = 'password';
export const SCHEDULE_BACKUP_CONTAINER = 'backup';
export const SCHEDULE_FORGET_CONTAINER = 'forget';
export const SCHEDULE_ENV_REPOSITORY = 'KUBECTL_BACKUP_REPOSITORY';
export const SCHEDULE_ENV_PASSWORD = 'KUBECTL_BACKUP_PASSWORD';
/** Where a repository PVC (`repositoryClaim`) is mounted when the repository is a path. */
export const SCHEDULE_REPO_VOLUME = 'repository';
/** A CronJob's name becomes its Jobs' name plus 11 characters; Job names are ≤ 63. */
export const MAX_SCHEDULE_NAME = 52;

export type ScheduleRetention = Pick<
  RetentionPolicy,
  | 'keepLast'
  | 'keepHourly'
  | 'keepDaily'
  | 'keepWeekly'
  | 'keepMonthly'
  | 'keepYearly'
  | 'keepWithin'
>;

/** The `kubectl-backup forget` flag of each retention setting. */
export const RETENTION_FLAGS: ReadonlyArray<[keyof ScheduleRetention, string]> = [
  ['keepLast', '--keep-last'],
  ['keepHourly', '--keep-hourly'],
  ['keepDaily', '--keep-daily'],
  ['keepWeekly', '--keep-weekly'],
  ['keepMonthly', '--keep-monthly'],
  ['keepYearly', '--keep-yearly'],
  ['keepWithin', '--keep-within'],
];

/** What `kubectl-backup create` is told (its flags of the same names). */
export interface ScheduleBackupOptions {
  volumes?: VolumeMode;
  includeResources?: string[];
  excludeResources?: string[];
  labelSelector?: string;
  /** `k=v` tags of every scheduled backup (`schedule=<name>` is always added). */
  tags?: string[];
  moverImage?: string;
}

export interface ScheduleSpec {
  name: string;
  namespace: string;
  /** Cron expression (5 fields) or a macro (`@daily`…). */
  schedule: string;
  /** IANA time zone of the schedule (default: the controller's, usually UTC). */
  timeZone?: string;
  /** Image with `kubectl-backup` on its PATH (default DEFAULT_SCHEDULE_IMAGE). */
  image?: string;
  /** Repository URL as the pod sees it (no credentials: S3 URLs refuse them). */
  repository: string;
  /** PVC mounted at the repository path (a local-path repository shared with the pod). */
  repositoryClaim?: string;
  /** Secret holding the repository password (key default `password`). */
  passwordSecret: { name: string; key?: string };
  /** Secret whose keys become environment variables (AWS_ACCESS_KEY_ID…). */
  credentialsSecret?: string;
  backup?: ScheduleBackupOptions;
  /** Applied after each successful backup (`kubectl-backup forget`); no policy: keep everything. */
  retention?: ScheduleRetention;
  /** Free the data of forgotten backups (`forget --prune`). */
  prune?: boolean;
  suspend?: boolean;
  /** Finished Jobs kept (default 3 and 3). */
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
  /** Retries of a failed backup Job (default 1). */
  backoffLimit?: number;
}

/** Names of a schedule's objects: namespaced ones by schedule name, cluster-scoped ones also by namespace. */
export function scheduleObjectNames(namespace: string, name: string) {
  const local = `kubectl-backup-${name}`;
  const cluster = `kubectl-backup:schedule:${namespace}:${name}`;
  return {
    cronJob: name,
    serviceAccount: local,
    role: local,
    roleBinding: local,
    clusterRole: cluster,
    clusterRoleBinding: cluster,
  };
}

const RBAC = 'rbac.authorization.k8s.io';
/** Where each kind of a schedule lives in the API, in the order they are applied. */
export const SCHEDULE_KINDS: ReadonlyArray<[kind: string, location: ResourceLocation]> = [
  ['ServiceAccount', { group: '', version: 'v1', resource: 'serviceaccounts', namespaced: true }],
  ['Role', { group: RBAC, version: 'v1', resource: 'roles', namespaced: true }],
  ['RoleBinding', { group: RBAC, version: 'v1', resource: 'rolebindings', namespaced: true }],
  ['ClusterRole', { group: RBAC, version: 'v1', resource: 'clusterroles', namespaced: false }],
  [
    'ClusterRoleBinding',
    { group: RBAC, version: 'v1', resource: 'clusterrolebindings', namespaced: false },
  ],
  ['CronJob', { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true }],
];

export function scheduleLocation(kind: string): ResourceLocation {
  const found = SCHEDULE_KINDS.find(([k]) => k === kind);
  if (!found) throw new K8sError('EUSAGE', `a schedule has no ${kind} object`);
  return found[1];
}

/**
 * Namespaced reads: every type (`*` on `*`, get/list). A backup captures every type discovery
 * lists, custom resources included, so a fixed list would silently miss a CRD installed after
 * the schedule was made. It is a Role: it reads this namespace only, nothing elsewhere.
 * Then what a backup makes and removes: mover pods (create/delete, exec for `tar` and for
 * hooks; exec is `create` on current clusters and `get` on older ones), PVC clones of CSI
 * snapshots, VolumeSnapshots.
 */
export const SCHEDULE_ROLE_RULES = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete'] },
  { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
  { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['create', 'delete'] },
  {
    apiGroups: ['snapshot.storage.k8s.io'],
    resources: ['volumesnapshots'],
    verbs: ['create', 'get', 'delete'],
  },
];

/** Cluster-scoped reads: the namespace itself (by name), bound PVs, StorageClasses, CRDs, bound ClusterRoles, snapshot classes. */
export function scheduleClusterRules(namespace: string) {
  return [
    { apiGroups: [''], resources: ['namespaces'], resourceNames: [namespace], verbs: ['get'] },
    { apiGroups: [''], resources: ['persistentvolumes'], verbs: ['get'] },
    { apiGroups: ['storage.k8s.io'], resources: ['storageclasses'], verbs: ['get'] },
    {
      apiGroups: ['apiextensions.k8s.io'],
      resources: ['customresourcedefinitions'],
      verbs: ['get'],
    },
    { apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['get'] },
    {
      apiGroups: ['snapshot.storage.k8s.io'],
      resources: ['volumesnapshotclasses'],
      verbs: ['get', 'list'],
    },
  ];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const VOLUME_MODES: readonly string[] = ['auto', 'snapshot', 'fs', 'none'];

function usage(message: string): K8sError {
  return new K8sError('EUSAGE', message);
}

function checkName(what: string, value: string, pattern: RegExp, max: number): void {
  if (!value || value.length > max || !pattern.test(value)) {
    throw usage(
      `invalid ${what} "${value}": use at most ${max} lower-case letters, digits and '-'${pattern === DNS_SUBDOMAIN ? " or '.'" : ''}, starting and ending with a letter or digit`,
    );
  }
}

function checkCount(flag: string, n: number | undefined, min: number): void {
  if (n !== undefined && (!Number.isInteger(n) || n < min))
    throw usage(`${flag} must be a whole number ≥ ${min}, not ${n}`);
}

/** Throws EUSAGE naming the first bad setting. */
export function validateScheduleSpec(spec: ScheduleSpec): void {
  checkName('schedule name', spec.name, DNS_LABEL, MAX_SCHEDULE_NAME);
  checkName('namespace', spec.namespace, DNS_LABEL, 63);
  validateCron(spec.schedule);
  if (spec.timeZone !== undefined) validateTimeZone(spec.timeZone);
  if (spec.image !== undefined && (!spec.image || /\s/.test(spec.image)))
    throw usage(`invalid image "${spec.image}"`);
  try {
    parseStorageUrl(spec.repository, {});
  } catch (err) {
    throw usage((err as Error).message);
  }
  if (spec.repositoryClaim !== undefined) {
    checkName('repository PVC name', spec.repositoryClaim, DNS_SUBDOMAIN, 253);
    if (parseStorageUrl(spec.repository, {}).kind !== 'local')
      throw usage('a repository PVC only makes sense for a repository that is a path');
  }
  checkName('password Secret name', spec.passwordSecret.name, DNS_SUBDOMAIN, 253);
  const key = spec.passwordSecret.key ?? DEFAULT_PASSWORD_KEY;
  if (!SECRET_KEY.test(key) || key.length > 253)
    throw usage(`invalid Secret key "${key}": use letters, digits, '-', '_' and '.'`);
  if (spec.credentialsSecret !== undefined)
    checkName('credentials Secret name', spec.credentialsSecret, DNS_SUBDOMAIN, 253);
  const b = spec.backup ?? {};
  if (b.volumes !== undefined && !VOLUME_MODES.includes(b.volumes))
    throw usage(`invalid volume mode "${b.volumes}": expected ${VOLUME_MODES.join(', ')}`);
  for (const t of b.tags ?? [])
    if (!/^[^\s,]+$/.test(t))
      throw usage(`invalid tag "${t}": a tag is a word or key=value, without spaces or commas`);
  if (b.moverImage !== undefined && (!b.moverImage || /\s/.test(b.moverImage)))
    throw usage(`invalid mover image "${b.moverImage}"`);
  for (const [key, flag] of RETENTION_FLAGS) {
    const v = spec.retention?.[key];
    if (key === 'keepWithin') {
      if (v !== undefined) parseDurationOrUsage(String(v));
    } else checkCount(flag, v as number | undefined, -1);
  }
  if (spec.prune && !hasRetention(spec.retention))
    throw usage('pruning needs a retention policy (--keep-daily, --keep-weekly…)');
  checkCount('successfulJobsHistoryLimit', spec.successfulJobsHistoryLimit, 0);
  checkCount('failedJobsHistoryLimit', spec.failedJobsHistoryLimit, 0);
  checkCount('backoffLimit', spec.backoffLimit, 0);
}

function parseDurationOrUsage(text: string): void {
  try {
    parseDuration(text);
  } catch (err) {
    throw usage(`--keep-within: ${(err as Error).message}`);
  }
}

export function hasRetention(r: ScheduleRetention | undefined): r is ScheduleRetention {
  return !!r && RETENTION_FLAGS.some(([key]) => r[key] !== undefined);
}

/** `kubectl-backup create` arguments of the backup container. */
export function scheduleBackupArgs(spec: ScheduleSpec): string[] {
  const b = spec.backup ?? {};
  const args = ['create', '-n', spec.namespace, '--volumes', b.volumes ?? 'auto'];
  for (const r of b.includeResources ?? []) args.push('--include-resources', r);
  for (const r of b.excludeResources ?? []) args.push('--exclude-resources', r);
  if (b.labelSelector) args.push('-l', b.labelSelector);
  for (const t of [...(b.tags ?? []), `schedule=${spec.name}`]) args.push('--tag', t);
  if (b.moverImage) args.push('--mover-image', b.moverImage);
  return args;
}

/** `kubectl-backup forget` arguments of the retention container (undefined: no policy). */
export function scheduleForgetArgs(spec: ScheduleSpec): string[] | undefined {
  if (!hasRetention(spec.retention)) return undefined;
  // Only this schedule's backups: manual ones and other schedules' are not its to remove.
  const args = ['forget', '-n', spec.namespace, '--tag', `schedule=${spec.name}`];
  for (const [key, flag] of RETENTION_FLAGS) {
    const v = spec.retention[key];
    if (v !== undefined) args.push(flag, String(v));
  }
  if (spec.prune) args.push('--prune');
  return args;
}

function labels(spec: ScheduleSpec, clusterScoped = false): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [SCHEDULE_LABEL]: spec.name,
    ...(clusterScoped ? { [SCHEDULE_NAMESPACE_LABEL]: spec.namespace } : {}),
  };
}

function container(spec: ScheduleSpec, name: string, args: string[]) {
  const local = parseStorageUrl(spec.repository, {});
  return {
    name,
    image: spec.image ?? DEFAULT_SCHEDULE_IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: ['kubectl-backup'],
    args,
    env: [
      { name: SCHEDULE_ENV_REPOSITORY, value: spec.repository },
      {
        name: SCHEDULE_ENV_PASSWORD,
        valueFrom: {
          secretKeyRef: {
            name: spec.passwordSecret.name,
            key: spec.passwordSecret.key ?? DEFAULT_PASSWORD_KEY,
          },
        },
      },
    ],
    ...(spec.credentialsSecret
      ? { envFrom: [{ secretRef: { name: spec.credentialsSecret } }] }
      : {}),
    ...(spec.repositoryClaim && local.kind === 'local'
      ? { volumeMounts: [{ name: SCHEDULE_REPO_VOLUME, mountPath: local.path }] }
      : {}),
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
}

/**
 * The objects of a schedule, in the order to apply them: ServiceAccount, Role, RoleBinding,
 * ClusterRole, ClusterRoleBinding, CronJob. Throws EUSAGE for a bad setting.
 */
export function scheduleManifests(spec: ScheduleSpec): KubeObject[] {
  validateScheduleSpec(spec);
  const { namespace } = spec;
  const names = scheduleObjectNames(namespace, spec.name);
  const meta = (name: string) => ({ name, namespace, labels: labels(spec) });
  const clusterMeta = (name: string) => ({ name, labels: labels(spec, true) });
  const subject = { kind: 'ServiceAccount', name: names.serviceAccount, namespace };
  const backupArgs = scheduleBackupArgs(spec);
  const forgetArgs = scheduleForgetArgs(spec);
  const backup = container(spec, SCHEDULE_BACKUP_CONTAINER, backupArgs);
  const podSpec = {
    serviceAccountName: names.serviceAccount,
    restartPolicy: 'Never',
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    ...(forgetArgs
      ? {
          initContainers: [backup],
          containers: [container(spec, SCHEDULE_FORGET_CONTAINER, forgetArgs)],
        }
      : { containers: [backup] }),
    ...(spec.repositoryClaim
      ? {
          volumes: [
            {
              name: SCHEDULE_REPO_VOLUME,
              persistentVolumeClaim: { claimName: spec.repositoryClaim },
            },
          ],
        }
      : {}),
  };
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(names.serviceAccount) },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'Role',
      metadata: meta(names.role),
      rules: SCHEDULE_ROLE_RULES,
    },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'RoleBinding',
      metadata: meta(names.roleBinding),
      roleRef: { apiGroup: RBAC, kind: 'Role', name: names.role },
      subjects: [subject],
    },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRole',
      metadata: clusterMeta(names.clusterRole),
      rules: scheduleClusterRules(namespace),
    },
    {
      apiVersion: `${RBAC}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta(names.clusterRoleBinding),
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: names.clusterRole },
      subjects: [subject],
    },
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(names.cronJob),
      spec: {
        schedule: validateCron(spec.schedule),
        ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
        concurrencyPolicy: 'Forbid',
        suspend: spec.suspend ?? false,
        successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit ?? 3,
        failedJobsHistoryLimit: spec.failedJobsHistoryLimit ?? 3,
        jobTemplate: {
          metadata: { labels: labels(spec) },
          spec: {
            backoffLimit: spec.backoffLimit ?? 1,
            template: { metadata: { labels: labels(spec) }, spec: podSpec },
          },
        },
      },
    },
  ];
}
