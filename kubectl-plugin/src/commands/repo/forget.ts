/** `kubectl backup repo forget`: applies a retention policy (restic semantics), optionally prunes. */
import {
  forget,
  shortId,
  type GroupByField,
  type RetentionResult,
  type Snapshot,
} from '@kubectl-backup/engine';
import { InvalidArgumentError, type Command } from 'commander';
import type { OutStream } from '../../io.js';
import { formatTime } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { renderTable } from '../../output/table.js';
import type { Session } from '../../session.js';
import { collect, outputOption, parseTag, type OutputFormat } from '../options.js';
import { addRetentionOptions, retentionPolicy, type RetentionFlags } from '../retention.js';
import { printPruneReport, runPrune } from './prune.js';

interface ForgetFlags extends RetentionFlags {
  tag?: string[];
  host?: string;
  groupBy: GroupByField[];
  dryRun?: boolean;
  prune?: boolean;
  json?: boolean;
  output: OutputFormat;
}

function parseGroupBy(value: string): GroupByField[] {
  const fields = value === '' ? [] : value.split(',');
  for (const f of fields)
    if (!['host', 'paths', 'tags'].includes(f))
      throw new InvalidArgumentError(
        'expected a comma-separated list of host, paths, tags (or "")',
      );
  return fields as GroupByField[];
}

export function registerForget(parent: Command, session: Session): void {
  const cmd = parent
    .command('forget')
    .description(
      'remove snapshots a retention policy does not keep (per host and paths group); "repo prune" then frees their data',
    );
  addRetentionOptions(cmd, 'snapshot')
    .option(
      '--keep-tag <tags>',
      'keep snapshots having all these comma-separated tags (repeatable)',
      collect,
    )
    .option(
      '--tag <tag>',
      'only consider snapshots with this tag (repeatable: all must match)',
      parseTag,
    )
    .option('--host <host>', 'only consider snapshots made on this host')
    .option(
      '--group-by <fields>',
      'group snapshots by these fields before applying the policy',
      parseGroupBy,
      ['host', 'paths'] as GroupByField[],
    )
    .option('--dry-run', 'only show what would be removed')
    .option('--prune', 'run "repo prune" afterwards')
    .option('--json', 'progress of --prune as JSON lines on stderr')
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nExample:\n  kubectl backup repo forget --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --prune',
    )
    .action((opts: ForgetFlags, c: Command) => runForget(session, c, opts));
}

async function runForget(session: Session, cmd: Command, opts: ForgetFlags): Promise<void> {
  const policy = retentionPolicy(opts, true);
  const options = {
    dryRun: opts.dryRun,
    filter: { tags: opts.tag, host: opts.host },
    groupBy: opts.groupBy,
  };
  await session.withRepo(cmd, { index: Boolean(opts.prune) }, async (repo) => {
    const work = () => forget(repo, policy, options);
    const result = opts.dryRun
      ? await work()
      : await session.audited(repo, 'snapshot.forget', work, (r) => ({
          details: {
            policy: { ...policy },
            removed: r.remove.map((d) => d.snapshot.id),
            kept: r.keep.length,
          },
        }));
    const pruned = opts.prune && !opts.dryRun ? await runPrune(session, repo, opts) : undefined;
    if (opts.output === 'json') {
      writeJson(session.io.stdout, {
        dryRun: Boolean(opts.dryRun),
        ...summarize(result),
        ...(pruned ? { prune: pruned } : {}),
      });
      return;
    }
    printForget(session.io.stdout, result, Boolean(opts.dryRun));
    if (pruned) printPruneReport(session.io.stdout, pruned);
  });
}

function summarize(r: RetentionResult<Snapshot>) {
  return {
    keep: r.keep.map((d) => ({
      id: d.snapshot.id,
      time: d.snapshot.time,
      group: d.group,
      reasons: d.reasons,
    })),
    remove: r.remove.map((d) => ({ id: d.snapshot.id, time: d.snapshot.time, group: d.group })),
  };
}

function printForget(out: OutStream, r: RetentionResult<Snapshot>, dryRun: boolean): void {
  const rows = [
    ...r.keep.map((d) => ({ s: d.snapshot, action: 'keep', why: d.reasons.join(', ') })),
    ...r.remove.map((d) => ({
      s: d.snapshot,
      action: dryRun ? 'would remove' : 'removed',
      why: '',
    })),
  ].sort((a, b) => b.s.time.localeCompare(a.s.time));
  if (rows.length) {
    out.write(
      renderTable(rows, [
        { header: 'ID', value: (x) => shortId(x.s.id) },
        { header: 'TIME', value: (x) => formatTime(x.s.time) },
        { header: 'HOST', value: (x) => x.s.host },
        { header: 'TAGS', value: (x) => x.s.tags.join(',') },
        { header: 'ACTION', value: (x) => x.action },
        { header: 'REASONS', value: (x) => x.why },
      ]),
    );
  }
  out.write(
    `${dryRun ? 'dry run: would keep' : 'kept'} ${r.keep.length}, ${dryRun ? 'would remove' : 'removed'} ${r.remove.length} snapshot(s)\n`,
  );
}
