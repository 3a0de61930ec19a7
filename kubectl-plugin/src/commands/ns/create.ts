/** `kubectl backup create [NAME]`: backs up a namespace (resources, images, PVC data). */
import { backupNamespace, type BackupNamespaceResult, type VolumeMode } from '@kubectl-backup/k8s';
import { Option, type Command } from 'commander';
import type { CliIO, OutStream } from '../../io.js';
import { addClusterOptions, k8sErrors, withCluster, type ClusterFlags } from '../../k8s-cluster.js';
import { withK8sProgress } from '../../k8s-progress.js';
import { CliError } from '../../output/errors.js';
import { formatBytes, formatDuration } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { jsonOption, parseTag } from '../options.js';
import { resourceListOption, selectorOption } from './flags.js';

interface CreateFlags extends ClusterFlags {
  includeResources?: string[];
  excludeResources?: string[];
  selector?: string;
  volumes: VolumeMode;
  tag?: string[];
  wait?: boolean;
  failOnWarning?: boolean;
  hooks: boolean;
  moverImage?: string;
  json?: boolean;
}

export function registerCreate(parent: Command, session: Session): void {
  const cmd = parent
    .command('create')
    .description(
      'back up a namespace: every resource discovery lists (custom resources included), its cluster-scoped dependencies, image digests and PVC data',
    )
    .argument('[name]', 'backup name, unique in the repository (default: <namespace>-<UTC time>)');
  addClusterOptions(cmd)
    .addOption(resourceListOption('include'))
    .addOption(resourceListOption('exclude'))
    .addOption(selectorOption())
    .addOption(
      new Option(
        '--volumes <mode>',
        'PVC data: auto (CSI snapshot where a VolumeSnapshotClass serves the driver, else a file copy), snapshot, fs, none',
      )
        .choices(['auto', 'snapshot', 'fs', 'none'])
        .default('auto'),
    )
    .option('--tag <k=v>', 'tag the backup, e.g. --tag release=1.4 (repeatable)', parseTag)
    .option('--wait', 'wait until the backup is complete (always the case from the command line)')
    .option('--fail-on-warning', 'fail (and keep nothing) when anything could not be captured')
    .option('--no-hooks', 'do not run the pre/post hooks of pod annotations')
    .option('--mover-image <image>', 'image of the mover pods that read PVCs (default: busybox)')
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
The backup is incremental: unchanged objects and volume data are not stored again; the summary
shows the new bytes against the total. Warnings (a type that could not be listed, a PVC not
read) do not fail the backup unless --fail-on-warning is given.

Examples:
  kubectl backup create -n shop
  kubectl backup create shop-before-upgrade -n shop --tag release=1.4 --volumes fs
  kubectl backup create -n shop --exclude-resources secrets -l app=web`,
    )
    .action((name: string | undefined, opts: CreateFlags, c: Command) =>
      runCreate(session, c, name, opts),
    );
}

async function runCreate(
  session: Session,
  cmd: Command,
  name: string | undefined,
  opts: CreateFlags,
): Promise<void> {
  const { io } = session;
  const result = await interruptible(io, () =>
    withCluster(io, opts, (conn) =>
      session.withRepo(cmd, { index: true, dataWork: true }, (repo) =>
        k8sErrors(() =>
          withK8sProgress(io, opts, (onProgress) =>
            // backupNamespace appends the `backup.create` audit entry itself
            backupNamespace(repo, conn.client, {
              namespace: conn.namespace,
              name,
              includeResources: opts.includeResources,
              excludeResources: opts.excludeResources,
              labelSelector: opts.selector,
              volumes: opts.volumes,
              tags: opts.tag,
              failOnWarning: opts.failOnWarning,
              hooks: opts.hooks,
              moverImage: opts.moverImage,
              signal: io.signal,
              onProgress,
            }),
          ),
        ),
      ),
    ),
  );
  if (opts.json) return writeJson(io.stdout, createResult(result));
  for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
  printCreate(io.stdout, result);
}

/**
 * An interrupted backup (Ctrl-C, SIGTERM) saved no backup; what it uploaded stays in the
 * repository unreferenced and the next run reuses it. Says so, and how to resume.
 */
async function interruptible<T>(io: CliIO, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!io.signal?.aborted) throw err;
    throw new CliError(
      'backup interrupted: no backup was saved and the repository is consistent; run the same command again to resume (data already uploaded is not sent again)',
    );
  }
}

export function createResult(r: BackupNamespaceResult) {
  const m = r.manifest;
  return {
    name: m.name,
    namespace: m.namespace,
    snapshot: r.snapshot.id,
    time: r.snapshot.time,
    cluster: m.cluster,
    actor: m.actor,
    resources: m.resources.total,
    byKind: m.resources.byKind,
    skipped: m.skipped.total,
    volumes: m.volumes.map((v) => ({
      pvc: v.pvc,
      method: v.method,
      bytes: v.bytes ?? 0,
      ...(v.error ? { error: v.error } : {}),
    })),
    images: m.images.length,
    bytesTotal: r.snapshot.stats.bytesTotal,
    bytesAdded: r.snapshot.stats.bytesAdded,
    storedBytesAdded: r.snapshot.stats.storedBytesAdded,
    durationMs: m.durationMs,
    warnings: r.warnings,
  };
}

function printCreate(out: OutStream, r: BackupNamespaceResult): void {
  const m = r.manifest;
  const s = r.snapshot.stats;
  const kinds = Object.keys(m.resources.byKind).length;
  const volumeBytes = m.volumes.reduce((n, v) => n + (v.bytes ?? 0), 0);
  const reused =
    s.bytesTotal > 0 ? Math.max(0, Math.round((1 - s.bytesAdded / s.bytesTotal) * 100)) : 0;
  out.write(
    `backup ${m.name} of namespace ${m.namespace} saved as snapshot ${r.snapshot.id.slice(0, 8)} in ${formatDuration(m.durationMs)}\n`,
  );
  out.write(
    `  ${m.resources.total} objects of ${kinds} kinds, ${m.skipped.total} skipped, ${m.volumes.length} volume(s) (${formatBytes(volumeBytes)}), ${m.images.length} image(s)\n`,
  );
  out.write(
    `  new ${formatBytes(s.bytesAdded)} of ${formatBytes(s.bytesTotal)} (${reused}% already in the repository), ${formatBytes(s.storedBytesAdded)} stored\n`,
  );
  if (r.warnings.length)
    out.write(`  ${r.warnings.length} warning(s); see "kubectl backup logs ${m.name}"\n`);
}
