/** `kubectl backup list [-n NS|-A]`: the namespace backups in the repository, oldest first. */
import { listBackups, type BackupSummary } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import {
  addClusterOptions,
  k8sErrors,
  resolveNamespace,
  type ClusterFlags,
} from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { formatBytes, formatTime } from '../../output/format.js';
import { writeTable, type Column } from '../../output/table.js';
import type { Session } from '../../session.js';

interface ListFlags extends ClusterFlags {
  output: ReadFormat;
}

export function backupColumns(options: {
  allNamespaces: boolean;
  wide: boolean;
}): Column<BackupSummary>[] {
  const columns: Column<BackupSummary>[] = [
    ...(options.allNamespaces
      ? [{ header: 'NAMESPACE', value: (b: BackupSummary) => b.namespace }]
      : []),
    { header: 'NAME', value: (b) => b.name },
    { header: 'TIME', value: (b) => formatTime(b.time) },
    { header: 'RESOURCES', value: (b) => String(b.resources), right: true },
    {
      header: 'VOLUMES',
      value: (b) => (b.volumes ? `${b.volumes} (${formatBytes(b.volumeBytes)})` : '0'),
      right: true,
    },
    { header: 'SIZE', value: (b) => formatBytes(b.sizeTotal), right: true },
    { header: 'ADDED', value: (b) => formatBytes(b.sizeAdded), right: true },
    { header: 'WARNINGS', value: (b) => String(b.warnings), right: true },
    { header: 'VERIFIED', value: (b) => (b.error ? 'damaged' : (b.verified?.result ?? '-')) },
  ];
  if (options.wide)
    columns.push(
      { header: 'SNAPSHOT', value: (b) => b.snapshot.slice(0, 8) },
      { header: 'CLUSTER', value: (b) => b.cluster },
      { header: 'ACTOR', value: (b) => b.actor },
      { header: 'TAGS', value: (b) => b.tags.join(',') },
    );
  return columns;
}

export function registerList(parent: Command, session: Session): void {
  const cmd = parent
    .command('list')
    .alias('ls')
    .description("list the backups of a namespace (default: the context's), or of all with -A");
  addClusterOptions(cmd, { allNamespaces: true })
    .addOption(readOutputOption())
    .addHelpText(
      'after',
      '\nOnly the kubeconfig is read (for the default namespace); the cluster is not contacted.\n\nExamples:\n  kubectl backup list -A\n  kubectl backup list -n shop -o wide\n  kubectl backup list -n shop -o json',
    )
    .action((opts: ListFlags, c: Command) => {
      const namespace = opts.allNamespaces ? undefined : resolveNamespace(session.io, opts);
      return session.withRepo(c, { index: true }, async (repo) => {
        const backups = await k8sErrors(() => listBackups(repo, { namespace }));
        const out = session.io.stdout;
        if (writeDocument(out, opts.output, backups)) return;
        if (opts.output === 'name') {
          for (const b of backups) out.write(`${b.name}\n`);
          return;
        }
        writeTable(
          out,
          backups,
          backupColumns({ allNamespaces: !namespace, wide: opts.output === 'wide' }),
          namespace ? `no backups of namespace ${namespace}` : 'no backups',
        );
      });
    });
}
