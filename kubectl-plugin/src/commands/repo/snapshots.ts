/** `kubectl backup repo snapshots`: lists snapshots, oldest first. */
import { listSnapshots, shortId, type Snapshot } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { formatBytes, formatTime } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { writeTable, type Column } from '../../output/table.js';
import type { Session } from '../../session.js';
import { outputOption, parseTag, type OutputFormat } from '../options.js';

interface SnapshotsOptions {
  tag?: string[];
  host?: string;
  output: OutputFormat;
}

export const SNAPSHOT_COLUMNS: Column<Snapshot>[] = [
  { header: 'ID', value: (s) => shortId(s.id) },
  { header: 'TIME', value: (s) => formatTime(s.time) },
  { header: 'HOST', value: (s) => s.host },
  { header: 'TAGS', value: (s) => s.tags.join(',') },
  { header: 'PATHS/ITEMS', value: describeContent },
  { header: 'SIZE', value: (s) => formatBytes(s.stats.bytesTotal), right: true },
  { header: 'ADDED', value: (s) => formatBytes(s.stats.bytesAdded), right: true },
];

function describeContent(s: Snapshot): string {
  const parts = [...s.paths];
  if (s.stats.itemsTotal)
    parts.push(`${s.stats.itemsTotal} item${s.stats.itemsTotal === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export function registerSnapshots(parent: Command, session: Session): void {
  parent
    .command('snapshots')
    .description(
      'list snapshots (oldest first): id, time, host, tags, paths/items, size, bytes added',
    )
    .option('--tag <tag>', 'only snapshots with this tag (repeatable: all must match)', parseTag)
    .option('--host <host>', 'only snapshots made on this host')
    .addOption(outputOption())
    .action((opts: SnapshotsOptions, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const snapshots = await listSnapshots(repo, { tags: opts.tag, host: opts.host });
        if (opts.output === 'json') writeJson(session.io.stdout, snapshots);
        else writeTable(session.io.stdout, snapshots, SNAPSHOT_COLUMNS, 'no snapshots');
      }),
    );
}
