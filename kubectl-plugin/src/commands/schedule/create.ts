/**
 * `kubectl backup schedule create NAME --schedule CRON --password-secret NAME[:KEY]`: a
 * CronJob (with its ServiceAccount and RBAC) in the namespace that runs `kubectl-backup create`
 * from an image, and `kubectl-backup forget` after it when a retention policy is given.
 */
import { parseStorageUrl } from '@kubectl-backup/engine';
import {
  DEFAULT_PASSWORD_KEY,
  DEFAULT_SCHEDULE_IMAGE,
  RETENTION_FLAGS,
  applySchedule,
  scheduleManifests,
  scheduleObjectLabel,
  type ApplyScheduleResult,
  type KubeObject,
  type ScheduleRetention,
  type ScheduleSpec,
  type VolumeMode,
} from '@kubectl-backup/k8s';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { defaultRepositoryPath, resolveRepoLocation } from '../../config.js';
import type { OutStream } from '../../io.js';
import {
  addClusterOptions,
  k8sCliError,
  k8sErrors,
  resolveNamespace,
  withCluster,
  type ClusterFlags,
} from '../../k8s-cluster.js';
import { usageError } from '../../output/errors.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { resourceListOption, selectorOption } from '../ns/flags.js';
import { parseCount, parseTag } from '../options.js';
import { auditSchedule, auditedChange } from './audit.js';
import { checkSecrets } from './secrets.js';

type CreateFlags = ClusterFlags & {
  schedule: string;
  timeZone?: string;
  passwordSecret: { name: string; key: string };
  credentialsSecret?: string;
  image: string;
  allowLocalRepo?: boolean;
  repoClaim?: string;
  prune?: boolean;
  volumes: VolumeMode;
  includeResources?: string[];
  excludeResources?: string[];
  selector?: string;
  tag?: string[];
  moverImage?: string;
  suspend?: boolean;
  successfulJobsHistory: number;
  failedJobsHistory: number;
  dryRun?: 'client' | 'server';
  output?: 'yaml' | 'json' | 'name';
} & Partial<ScheduleRetention>;

function parsePasswordSecret(value: string): { name: string; key: string } {
  const [name, key, extra] = value.split(':');
  if (!name || key === '' || extra !== undefined)
    throw new InvalidArgumentError('expected NAME or NAME:KEY, e.g. kb-password:password');
  return { name, key: key ?? DEFAULT_PASSWORD_KEY };
}

function parseHistory(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

export function registerScheduleCreate(parent: Command, session: Session): void {
  const cmd = parent
    .command('create')
    .description(
      'schedule backups of a namespace: a CronJob there runs "kubectl-backup create" (and "forget" with a retention policy) from an image',
    )
    .argument(
      '<name>',
      'schedule name: the CronJob\'s name (lower-case letters, digits, "-"; at most 52)',
    )
    .requiredOption(
      '--schedule <cron>',
      'when, in cron syntax ("0 2 * * *") or @hourly, @daily, @weekly, @monthly, @yearly',
    )
    .option(
      '--time-zone <zone>',
      "time zone of the schedule, e.g. Europe/Berlin (default: the cluster's, usually UTC)",
    )
    .requiredOption(
      '--password-secret <name[:key]>',
      `Secret in the namespace holding the repository password (key default "${DEFAULT_PASSWORD_KEY}")`,
      parsePasswordSecret,
    )
    .option(
      '--credentials-secret <name>',
      'Secret whose keys become environment variables of the job: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY…',
    )
    .option('--image <image>', 'image with kubectl-backup on its PATH', DEFAULT_SCHEDULE_IMAGE)
    .option(
      '--allow-local-repo',
      'accept a repository that is a path: it must exist inside the pod (see --repo-claim)',
    )
    .option(
      '--repo-claim <pvc>',
      'PVC mounted at the path of a local repository (with --allow-local-repo)',
    );
  for (const [key, flag] of RETENTION_FLAGS) {
    const unit = flag.slice('--keep-'.length);
    if (key === 'keepWithin')
      cmd.option(
        `${flag} <duration>`,
        'retention: keep every backup newer than this before the newest (7d, 2w, 1y2m)',
      );
    else
      cmd.option(
        `${flag} <n>`,
        unit === 'last'
          ? 'retention: keep the N newest backups'
          : `retention: keep the newest backup of each of the last N ${unit} periods`,
        parseCount,
      );
  }
  cmd
    .option(
      '--prune',
      'free the data of forgotten backups after each run (needs a retention policy)',
    )
    .addOption(
      new Option('--volumes <mode>', 'PVC data of each backup: auto, snapshot, fs, none')
        .choices(['auto', 'snapshot', 'fs', 'none'])
        .default('auto'),
    )
    .addOption(resourceListOption('include'))
    .addOption(resourceListOption('exclude'))
    .addOption(selectorOption())
    .option(
      '--tag <k=v>',
      'tag every backup, e.g. --tag env=prod (repeatable; schedule=NAME is always added)',
      parseTag,
    )
    .option('--mover-image <image>', 'image of the mover pods that read PVCs (default: busybox)')
    .option('--suspend', 'create the schedule suspended (no job runs until it is resumed)')
    .option('--successful-jobs-history <n>', 'finished jobs kept', parseHistory, 3)
    .option('--failed-jobs-history <n>', 'failed jobs kept', parseHistory, 3)
    .addOption(
      new Option(
        '--dry-run [mode]',
        'change nothing: "client" (default) only prints, "server" has the API server check',
      )
        .choices(['client', 'server'])
        .preset('client'),
    )
    .addOption(
      new Option('-o, --output <format>', 'print the objects: yaml, json (a List) or name').choices(
        ['yaml', 'json', 'name'],
      ),
    );
  addClusterOptions(cmd).addHelpText(
    'after',
    `
The job runs in the namespace as the ServiceAccount kubectl-backup-NAME, bound to a Role that
reads every type in that namespace (get/list on *: custom resources included) and may make mover
pods, PVC clones and VolumeSnapshots, and to a ClusterRole kubectl-backup:schedule:NS:NAME
that reads the Namespace, PVs, StorageClasses, CRDs, ClusterRoles and VolumeSnapshotClasses.
The repository URL (--repo, $KUBECTL_BACKUP_REPOSITORY or the configuration file) is given
to the job as is: it must be reachable from the cluster. The password comes from the Secret,
never from this machine. With a retention policy, "backup" runs as an init container and
"forget" (kubectl-backup forget -n NS --keep-…) after it succeeded; the policy applies to every
backup of the namespace. Running it again updates the schedule.

Examples:
  kubectl create secret generic kb-password -n shop --from-file=password=./password.txt
  kubectl backup schedule create nightly -n shop --schedule "0 2 * * *" \\
    --repo 's3://backups/prod?region=eu-west-1' --password-secret kb-password \\
    --credentials-secret kb-s3 --keep-daily 7 --keep-weekly 4 --prune
  kubectl backup schedule create hourly -n shop --schedule @hourly --password-secret kb-password \\
    --volumes none --dry-run -o yaml`,
  );
  cmd.action((name: string, opts: CreateFlags, c: Command) => runCreate(session, c, name, opts));
}

/** The repository URL for the pod: one it can reach (a path only with --allow-local-repo). */
function podRepository(session: Session, cmd: Command, opts: CreateFlags): string {
  const location = resolveRepoLocation(session.io, session.globals(cmd).repo, false);
  const kind = parseStorageUrl(location.url, session.io.env).kind;
  const isDefault = location.url === defaultRepositoryPath(session.io.env);
  if (kind === 'memory')
    throw usageError('a memory:// repository cannot be used by a scheduled backup');
  if (kind === 'local' && !opts.allowLocalRepo)
    throw usageError(
      `the repository ${location.display}${isDefault ? ' (the default: no --repo, $KUBECTL_BACKUP_REPOSITORY or configuration file)' : ''} is a directory on this machine: the scheduled backup runs in a pod in the cluster, which cannot reach it. Give a repository the cluster can reach (--repo 's3://bucket/prefix?endpoint=…'), or --allow-local-repo if that path exists inside the pod (e.g. a shared volume, --repo-claim PVC)`,
    );
  if (opts.repoClaim && kind !== 'local')
    throw usageError('--repo-claim is for a repository that is a path');
  return location.url;
}

function k8sSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw k8sCliError(err);
  }
}

function specOf(
  name: string,
  namespace: string,
  repository: string,
  opts: CreateFlags,
): ScheduleSpec {
  const retention: ScheduleRetention = {};
  for (const [key] of RETENTION_FLAGS)
    if (opts[key] !== undefined) Object.assign(retention, { [key]: opts[key] });
  return {
    name,
    namespace,
    schedule: opts.schedule,
    timeZone: opts.timeZone,
    image: opts.image,
    repository,
    repositoryClaim: opts.repoClaim,
    passwordSecret: opts.passwordSecret,
    credentialsSecret: opts.credentialsSecret,
    backup: {
      volumes: opts.volumes,
      includeResources: opts.includeResources,
      excludeResources: opts.excludeResources,
      labelSelector: opts.selector,
      tags: opts.tag,
      moverImage: opts.moverImage,
    },
    retention: Object.keys(retention).length ? retention : undefined,
    prune: opts.prune,
    suspend: opts.suspend,
    successfulJobsHistoryLimit: opts.successfulJobsHistory,
    failedJobsHistoryLimit: opts.failedJobsHistory,
  };
}

async function runCreate(
  session: Session,
  cmd: Command,
  name: string,
  opts: CreateFlags,
): Promise<void> {
  const { io } = session;
  const repository = podRepository(session, cmd, opts);
  const namespace = resolveNamespace(io, opts);
  const spec = specOf(name, namespace, repository, opts);
  const manifests = k8sSync(() => scheduleManifests(spec));
  if (opts.dryRun === 'client') {
    printObjects(
      io.stdout,
      opts.output,
      manifests,
      manifests.map(() => 'created'),
      ' (dry run)',
    );
    return;
  }
  const dryRun = opts.dryRun === 'server';
  await withCluster(io, { ...opts, namespace }, async (conn) => {
    const entry = { action: 'schedule.create' as const, target: name, namespace };
    const apply = () =>
      k8sErrors(() => applySchedule(conn.client, manifests, { dryRun, signal: io.signal }));
    const result = dryRun ? await apply() : await auditedChange(session, cmd, conn, entry, apply);
    for (const w of await checkSecrets(conn.client, spec)) io.stderr.write(`warning: ${w}\n`);
    printObjects(
      io.stdout,
      opts.output,
      result.objects.map((o) => o.object),
      result.objects.map((o) => o.action),
      dryRun ? ' (server dry run)' : '',
    );
    if (!opts.output && !dryRun) printSummary(io.stdout, spec);
    if (!dryRun)
      await auditSchedule(session, cmd, conn, {
        ...entry,
        outcome: 'success',
        details: auditDetails(spec, result),
      });
  });
}

function auditDetails(spec: ScheduleSpec, result: ApplyScheduleResult): Record<string, unknown> {
  const cronJob = result.objects.find((o) => o.kind === 'CronJob');
  return {
    schedule: spec.schedule,
    ...(spec.timeZone ? { timeZone: spec.timeZone } : {}),
    image: spec.image,
    action: cronJob?.action,
    passwordSecret: spec.passwordSecret.name,
    ...(spec.credentialsSecret ? { credentialsSecret: spec.credentialsSecret } : {}),
    ...(spec.retention ? { retention: { ...spec.retention }, prune: Boolean(spec.prune) } : {}),
    suspend: Boolean(spec.suspend),
    objects: result.objects.map((o) => scheduleObjectLabel(o)),
  };
}

/** kubectl's way: `kind.group/name created`, or the objects with -o. */
function printObjects(
  out: OutStream,
  format: CreateFlags['output'],
  objects: KubeObject[],
  actions: string[],
  suffix: string,
): void {
  if (format === 'yaml') {
    out.write(objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
    return;
  }
  if (format === 'json') return writeJson(out, { apiVersion: 'v1', kind: 'List', items: objects });
  objects.forEach((o, i) => {
    const label = scheduleObjectLabel({ kind: o.kind, name: o.metadata.name ?? '' });
    out.write(format === 'name' ? `${label}\n` : `${label} ${actions[i]}${suffix}\n`);
  });
}

function printSummary(out: OutStream, spec: ScheduleSpec): void {
  const when = `"${spec.schedule}"${spec.timeZone ? ` (${spec.timeZone})` : ''}`;
  out.write(
    `schedule ${spec.name} in namespace ${spec.namespace}: ${when}${spec.suspend ? ', suspended' : ''}; see "kubectl backup schedule list -n ${spec.namespace}"\n`,
  );
}
