/** `kubectl backup schedule list [-n NS|-A]`: the schedules in the cluster, from their CronJobs. */
import { listSchedules, type ScheduleSummary } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import { addClusterOptions, k8sErrors, withCluster, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { formatTime } from '../../output/format.js';
import { writeTable, type Column } from '../../output/table.js';
import type { Session } from '../../session.js';

interface ListFlags extends ClusterFlags {
  output: ReadFormat;
}

/** `daily=7,weekly=4` (`-` without a policy). */
export function retentionText(s: ScheduleSummary): string {
  const r = s.retention;
  if (!r) return '-';
  const parts = Object.entries(r).map(
    ([k, v]) => `${k.replace(/^keep/, '').toLowerCase()}=${String(v)}`,
  );
  return parts.join(',') + (s.prune ? ' +prune' : '');
}

function columns(allNamespaces: boolean, wide: boolean): Column<ScheduleSummary>[] {
  const when = (t?: string) => (t ? formatTime(t) : '-');
  return [
    ...(allNamespaces ? [{ header: 'NAMESPACE', value: (s: ScheduleSummary) => s.namespace }] : []),
    { header: 'NAME', value: (s) => s.name },
    { header: 'SCHEDULE', value: (s) => s.schedule + (s.timeZone ? ` (${s.timeZone})` : '') },
    { header: 'SUSPEND', value: (s) => String(s.suspend) },
    { header: 'LAST SCHEDULE', value: (s) => when(s.lastScheduleTime) },
    { header: 'LAST SUCCESS', value: (s) => when(s.lastSuccessfulTime) },
    { header: 'RETENTION', value: retentionText },
    { header: 'IMAGE', value: (s) => s.image },
    ...(wide
      ? [
          { header: 'REPOSITORY', value: (s: ScheduleSummary) => s.repository },
          {
            header: 'PASSWORD SECRET',
            value: (s: ScheduleSummary) => `${s.passwordSecret.name}:${s.passwordSecret.key}`,
          },
          { header: 'ARGS', value: (s: ScheduleSummary) => s.backupArgs.join(' ') },
        ]
      : []),
  ];
}

export function registerScheduleList(parent: Command, session: Session): void {
  const cmd = parent
    .command('list')
    .alias('ls')
    .description(
      "list the backup schedules of a namespace (default: the context's), or of all with -A",
    );
  addClusterOptions(cmd, { allNamespaces: true })
    .addOption(readOutputOption())
    .addHelpText(
      'after',
      '\nSchedules are CronJobs labelled backup.kubectl.io/schedule; the repository is not opened.\n\nExamples:\n  kubectl backup schedule list -A\n  kubectl backup schedule list -n shop -o wide\n  kubectl backup schedule list -n shop -o json',
    )
    .action((opts: ListFlags) =>
      withCluster(session.io, opts, async (conn) => {
        const namespace = opts.allNamespaces ? undefined : conn.namespace;
        const schedules = await k8sErrors(() =>
          listSchedules(conn.client, namespace, { signal: session.io.signal }),
        );
        const out = session.io.stdout;
        if (writeDocument(out, opts.output, schedules)) return;
        if (opts.output === 'name') {
          for (const s of schedules) out.write(`${s.name}\n`);
          return;
        }
        writeTable(
          out,
          schedules,
          columns(!namespace, opts.output === 'wide'),
          namespace ? `no backup schedules in namespace ${namespace}` : 'no backup schedules',
        );
      }),
    );
}
