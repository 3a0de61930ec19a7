/** `kubectl backup schedule delete NAME [-n NS]`: removes the CronJob and everything made with it. */
import { deleteSchedule, scheduleObjectLabel } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import { addClusterOptions, k8sErrors, withCluster, type ClusterFlags } from '../../k8s-cluster.js';
import type { Session } from '../../session.js';
import { auditSchedule, auditedChange } from './audit.js';

export function registerScheduleDelete(parent: Command, session: Session): void {
  const cmd = parent
    .command('delete')
    .description(
      'delete a backup schedule: its CronJob (and running jobs), ServiceAccount, Role, ClusterRole and bindings',
    )
    .argument('<name>', 'schedule name');
  addClusterOptions(cmd)
    .addHelpText(
      'after',
      '\nThe backups the schedule made stay in the repository, and so do the Secrets it used.\n\nExample:\n  kubectl backup schedule delete nightly -n shop',
    )
    .action((name: string, opts: ClusterFlags, c: Command) =>
      withCluster(session.io, opts, async (conn) => {
        const entry = {
          action: 'schedule.delete' as const,
          target: name,
          namespace: conn.namespace,
        };
        const deleted = await auditedChange(session, c, conn, entry, () =>
          k8sErrors(() =>
            deleteSchedule(conn.client, conn.namespace, name, { signal: session.io.signal }),
          ),
        );
        for (const r of deleted) session.io.stdout.write(`${scheduleObjectLabel(r)} deleted\n`);
        await auditSchedule(session, c, conn, {
          ...entry,
          outcome: 'success',
          details: { objects: deleted.map((r) => scheduleObjectLabel(r)) },
        });
      }),
    );
}
