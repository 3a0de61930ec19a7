/** `kubectl backup repo check`: verifies structure, optionally data; exit 1 when it finds errors. */
import { check, parseSubset, type CheckReport } from '@kubectl-backup/engine';
import { Option, type Command } from 'commander';
import type { OutStream } from '../../io.js';
import { CliError } from '../../output/errors.js';
import { formatBytes } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { withProgress } from '../../output/progress.js';
import type { Session } from '../../session.js';
import { jsonOption } from '../options.js';

interface CheckFlags {
  readData?: boolean;
  readDataSubset?: string;
  json?: boolean;
}

export function registerCheck(parent: Command, session: Session): void {
  parent
    .command('check')
    .description(
      'verify the repository: index, pack headers, snapshots, trees, audit log; with --read-data every stored byte',
    )
    .option('--read-data', 'also read and authenticate every blob of every pack')
    .addOption(
      new Option(
        '--read-data-subset <subset>',
        'read a subset of the packs: n/t (the n-th of t groups, e.g. 1/5) or a percentage (10%)',
      ).conflicts('readData'),
    )
    .addOption(jsonOption())
    .action(async (opts: CheckFlags, cmd: Command) => {
      if (opts.readDataSubset) parseSubset(opts.readDataSubset); // validate before opening anything
      const report = await session.withRepo(cmd, { index: true }, (repo) =>
        withProgress(session.io, opts, (onProgress) =>
          check(repo, { readData: opts.readData, readDataSubset: opts.readDataSubset, onProgress }),
        ),
      );
      if (opts.json) writeJson(session.io.stdout, report);
      else printReport(session.io.stdout, report);
      if (!report.ok)
        throw new CliError(`check found ${report.errors.length} error(s) in the repository`);
    });
}

function printReport(out: OutStream, r: CheckReport): void {
  out.write(
    `checked ${r.snapshots} snapshot(s), ${r.trees} tree(s), ${r.blobs} blob(s) in ${r.packs} pack(s), ${r.auditEntries} audit entries\n`,
  );
  if (r.packsRead) out.write(`read ${r.packsRead} pack(s), ${formatBytes(r.bytesRead)}\n`);
  for (const w of r.warnings) out.write(`warning: ${w}\n`);
  for (const e of r.errors) out.write(`error: ${e}\n`);
  if (r.ok) out.write('no errors found\n');
}
