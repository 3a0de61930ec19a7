/** `kubectl backup delete NAME`: removes a backup (its data goes with the next prune). */
import { findBackup } from '@kubectl-backup/k8s';
import { deleteSnapshots } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { addClusterOptions, k8sErrors, type ClusterFlags } from '../../k8s-cluster.js';
import type { Session } from '../../session.js';
import { runPrune, printPruneReport } from '../repo/prune.js';

interface DeleteFlags extends ClusterFlags {
  prune?: boolean;
}

export function registerDelete(parent: Command, session: Session): void {
  const cmd = parent
    .command('delete')
    .description(
      'delete a backup from the repository; "--prune" (or "repo prune") then frees its data',
    )
    .argument('<name>', 'backup name (or snapshot id prefix)');
  addClusterOptions(cmd)
    .option('--prune', 'run "repo prune" afterwards')
    .addHelpText('after', '\nRestore and verify records of the backup are kept (they are history).')
    .action((name: string, opts: DeleteFlags, c: Command) =>
      session.withRepo(c, { index: Boolean(opts.prune) }, async (repo) => {
        const handle = await k8sErrors(() => findBackup(repo, name, { namespace: opts.namespace }));
        await session.audited(
          repo,
          'backup.delete',
          () => deleteSnapshots(repo, [handle.snapshot.id]),
          () => ({ details: { snapshot: handle.snapshot.id, namespace: handle.namespace } }),
          handle.name,
        );
        session.io.stdout.write(
          `deleted backup ${handle.name} of namespace ${handle.namespace} (snapshot ${handle.snapshot.id.slice(0, 8)})\n`,
        );
        if (opts.prune) printPruneReport(session.io.stdout, await runPrune(session, repo, {}));
      }),
    );
}
