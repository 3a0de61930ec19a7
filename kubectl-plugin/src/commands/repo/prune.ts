/** `kubectl backup repo prune`: removes data no snapshot references (exclusive lock). */
import { prune, type PruneReport, type Repository } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import type { OutStream } from '../../io.js';
import { formatBytes } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { withProgress } from '../../output/progress.js';
import type { Session } from '../../session.js';
import { jsonOption } from '../options.js';

interface PruneFlags {
  dryRun?: boolean;
  json?: boolean;
}

export function registerPrune(parent: Command, session: Session): void {
  parent
    .command('prune')
    .description(
      'delete data that no snapshot references any more; repacks partly used packs (run after "repo forget")',
    )
    .option('--dry-run', 'only report what would be deleted')
    .addOption(jsonOption())
    .action((opts: PruneFlags, cmd: Command) =>
      session.withRepo(cmd, { index: true }, async (repo) => {
        const report = await runPrune(session, repo, opts);
        if (opts.json) writeJson(session.io.stdout, report);
        else printPruneReport(session.io.stdout, report);
      }),
    );
}

/** Prunes with progress, recording the result in the audit log (unless a dry run). */
export function runPrune(
  session: Session,
  repo: Repository,
  opts: PruneFlags,
): Promise<PruneReport> {
  const work = () =>
    withProgress(session.io, opts, (onProgress) =>
      prune(repo, { dryRun: opts.dryRun, onProgress }),
    );
  if (opts.dryRun) return work();
  return session.audited(repo, 'repo.prune', work, (r) => ({
    details: {
      packsDeleted: r.packsDeleted,
      packsRepacked: r.packsRepacked,
      blobsRemoved: r.blobsRemoved,
      bytesFreed: r.bytesFreed,
    },
  }));
}

export function printPruneReport(out: OutStream, r: PruneReport): void {
  const verb = r.dryRun ? 'would' : 'did';
  out.write(
    `${r.dryRun ? 'dry run: ' : ''}${r.snapshots} snapshot(s) keep data in ${r.packsTotal} pack(s); ` +
      `${verb} delete ${r.packsDeleted} pack(s), repack ${r.packsRepacked} (into ${r.packsWritten} new), ` +
      `remove ${r.orphanPacks} unindexed pack(s) and ${r.blobsRemoved} unused blob(s)\n` +
      `${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytesFreed)} (${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)})\n`,
  );
}
