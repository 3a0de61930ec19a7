/** `kubectl backup diff NAME [NAME2|--cluster]`: objects added, removed or changed. */
import { diffBackups, diffBackupWithCluster, type NamespaceDiff } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import type { OutStream } from '../../io.js';
import { addClusterOptions, k8sErrors, withCluster, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { usageError } from '../../output/errors.js';
import type { Session } from '../../session.js';
import { describeChange } from './restore.js';

interface DiffFlags extends ClusterFlags {
  cluster?: boolean;
  output: ReadFormat;
}

const MARK = { added: '+', removed: '-', changed: '~', unchanged: '=' } as const;

export function registerDiff(parent: Command, session: Session): void {
  const cmd = parent
    .command('diff')
    .description(
      'compare a backup with another backup, or with the live namespace (--cluster, the default): + added, - removed, ~ changed',
    )
    .argument('<name>', 'backup name (the older side)')
    .argument('[name2]', 'a second backup (the newer side)');
  addClusterOptions(cmd)
    .option('--cluster', "compare with the live namespace (-n, default the backup's namespace)")
    .addOption(readOutputOption(['json', 'yaml']))
    .addHelpText(
      'after',
      '\nBoth sides are sanitised first (uid, resourceVersion, status, clusterIPs… are not differences);\nagainst the cluster only the fields the backup has are compared, so server defaults do not show.\n\nExamples:\n  kubectl backup diff shop-1 --cluster\n  kubectl backup diff shop-1 shop-2 -o json',
    )
    .action((name: string, name2: string | undefined, opts: DiffFlags, c: Command) => {
      if (name2 && opts.cluster)
        throw usageError('give either a second backup or --cluster, not both');
      return session.withRepo(c, { index: true }, async (repo) => {
        const diff = name2
          ? await k8sErrors(() => diffBackups(repo, name, name2))
          : await withCluster(session.io, opts, (conn) =>
              k8sErrors(() =>
                diffBackupWithCluster(repo, conn.client, name, {
                  namespace: opts.namespace,
                  signal: session.io.signal,
                }),
              ),
            );
        if (!writeDocument(session.io.stdout, opts.output, diff))
          printDiff(session.io.stdout, diff);
      });
    });
}

function printDiff(out: OutStream, d: NamespaceDiff): void {
  for (const o of d.objects) {
    if (o.change === 'unchanged') continue;
    out.write(`${MARK[o.change]}  ${o.kind} ${o.name}\n`);
    for (const f of o.fields ?? []) out.write(`     ${describeChange(f)}\n`);
  }
  const s = d.summary;
  out.write(
    `${d.from.label} (${d.from.namespace}) → ${d.to.label} (${d.to.namespace}): ${s.added} added, ${s.removed} removed, ${s.changed} changed, ${s.unchanged} unchanged\n`,
  );
}
