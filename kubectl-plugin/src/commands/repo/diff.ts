/** `kubectl backup repo diff A B`: what changed between two snapshots. */
import { diffSnapshots, findSnapshot, shortId, type DiffReport } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import type { OutStream } from '../../io.js';
import { formatBytes } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { outputOption, type OutputFormat } from '../options.js';

const MARK = { added: '+', removed: '-', modified: 'M', metadata: 'U' } as const;

export function registerDiff(parent: Command, session: Session): void {
  parent
    .command('diff')
    .description(
      'show what changed between two snapshots: + added, - removed, M modified, U metadata only',
    )
    .argument('<from>', 'older snapshot (id, unique prefix or "latest")')
    .argument('<to>', 'newer snapshot (id, unique prefix or "latest")')
    .addOption(outputOption())
    .action((from: string, to: string, opts: { output: OutputFormat }, cmd: Command) =>
      session.withRepo(cmd, { index: true }, async (repo) => {
        const [a, b] = await Promise.all([findSnapshot(repo, from), findSnapshot(repo, to)]);
        const report = await diffSnapshots(repo, a, b);
        if (opts.output === 'json')
          return writeJson(session.io.stdout, { from: a.id, to: b.id, ...report });
        printDiff(session.io.stdout, report, `${shortId(a.id)} → ${shortId(b.id)}`);
      }),
    );
}

function printDiff(out: OutStream, r: DiffReport, title: string): void {
  for (const e of r.entries)
    out.write(`${MARK[e.change]}  ${e.path}${e.type === 'dir' ? '/' : ''}\n`);
  out.write(
    `${title}: ${r.added} added, ${r.removed} removed, ${r.modified} changed; ` +
      `+${formatBytes(r.bytesAdded)} -${formatBytes(r.bytesRemoved)}\n`,
  );
}
