/**
 * `kubectl backup forget -n NS --keep-daily 7 --keep-weekly 4 …`: the retention policy applied
 * to the backups of a namespace (each namespace on its own with -A); `--prune` frees the data.
 */
import { forget, type RetentionResult, type Snapshot } from '@kubectl-backup/engine';
import { KIND_NAMESPACE_BACKUP, listBackupSnapshots, tag, tagValue } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import { addClusterOptions, resolveNamespace, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { formatTime } from '../../output/format.js';
import { renderTable } from '../../output/table.js';
import type { Session } from '../../session.js';
import { parseTag } from '../options.js';
import { addRetentionOptions, retentionPolicy, type RetentionFlags } from '../retention.js';
import { printPruneReport, runPrune } from '../repo/prune.js';

type ForgetFlags = ClusterFlags &
  RetentionFlags & {
    tag?: string[];
    dryRun?: boolean;
    prune?: boolean;
    output: ReadFormat;
  };

export function registerForget(parent: Command, session: Session): void {
  const cmd = parent
    .command('forget')
    .description(
      "remove the backups of a namespace that a retention policy does not keep (default: the context's namespace; -A: each namespace)",
    );
  addRetentionOptions(cmd, 'backup');
  addClusterOptions(cmd, { allNamespaces: true })
    .option(
      '--tag <k=v>',
      'only consider backups with this tag, e.g. --tag schedule=nightly (repeatable: all of them)',
      parseTag,
    )
    .option('--dry-run', 'only show what would be removed')
    .option('--prune', 'free the data of removed backups afterwards ("repo prune")')
    .addOption(readOutputOption(['json', 'yaml']))
    .addHelpText(
      'after',
      '\nBackups without the --tag values are neither kept nor removed: they are not considered.\n\nExamples:\n  kubectl backup forget -n shop --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --prune\n  kubectl backup forget -n shop --tag schedule=nightly --keep-last 7',
    )
    .action((opts: ForgetFlags, c: Command) => runForget(session, c, opts));
}

interface Decision {
  namespace: string;
  name: string;
  snapshot: string;
  time: string;
  action: 'keep' | 'remove';
  reasons: string[];
}

async function runForget(session: Session, cmd: Command, opts: ForgetFlags): Promise<void> {
  const policy = retentionPolicy(opts);
  const only = opts.allNamespaces ? undefined : resolveNamespace(session.io, opts);
  await session.withRepo(cmd, { index: Boolean(opts.prune) }, async (repo) => {
    const namespaces = only
      ? [only]
      : [
          ...new Set(
            (await listBackupSnapshots(repo)).map((s) => tagValue(s.tags, 'namespace') ?? ''),
          ),
        ].sort();
    const decisions: Decision[] = [];
    for (const namespace of namespaces) {
      const work = () =>
        forget(repo, policy, {
          dryRun: opts.dryRun,
          filter: {
            tags: [
              tag('kind', KIND_NAMESPACE_BACKUP),
              tag('namespace', namespace),
              ...(opts.tag ?? []),
            ],
          },
          groupBy: [],
        });
      const result = opts.dryRun
        ? await work()
        : await session.audited(
            repo,
            'backup.forget',
            work,
            (r) => ({
              details: {
                policy: { ...policy },
                ...(opts.tag ? { tags: opts.tag } : {}),
                removed: r.remove.map((d) => nameOf(d.snapshot)),
                kept: r.keep.length,
              },
            }),
            namespace,
          );
      decisions.push(...decide(namespace, result));
    }
    const pruned = opts.prune && !opts.dryRun ? await runPrune(session, repo, {}) : undefined;
    const out = session.io.stdout;
    if (
      writeDocument(out, opts.output, {
        dryRun: Boolean(opts.dryRun),
        backups: decisions,
        ...(pruned ? { prune: pruned } : {}),
      })
    )
      return;
    if (decisions.length)
      out.write(
        renderTable(decisions, [
          { header: 'NAMESPACE', value: (d) => d.namespace },
          { header: 'NAME', value: (d) => d.name },
          { header: 'TIME', value: (d) => formatTime(d.time) },
          {
            header: 'ACTION',
            value: (d) => (d.action === 'keep' ? 'keep' : opts.dryRun ? 'would remove' : 'removed'),
          },
          { header: 'REASONS', value: (d) => d.reasons.join(', ') },
        ]),
      );
    const removed = decisions.filter((d) => d.action === 'remove').length;
    out.write(
      `${opts.dryRun ? 'dry run: would keep' : 'kept'} ${decisions.length - removed}, ${opts.dryRun ? 'would remove' : 'removed'} ${removed} backup(s)\n`,
    );
    if (pruned) printPruneReport(out, pruned);
  });
}

function nameOf(s: Snapshot): string {
  return tagValue(s.tags, 'name') ?? s.id.slice(0, 8);
}

function decide(namespace: string, r: RetentionResult<Snapshot>): Decision[] {
  const row = (s: Snapshot, action: Decision['action'], reasons: string[]): Decision => ({
    namespace,
    name: nameOf(s),
    snapshot: s.id,
    time: s.time,
    action,
    reasons,
  });
  return [
    ...r.keep.map((d) => row(d.snapshot, 'keep', d.reasons)),
    ...r.remove.map((d) => row(d.snapshot, 'remove', [])),
  ].sort((a, b) => b.time.localeCompare(a.time));
}
