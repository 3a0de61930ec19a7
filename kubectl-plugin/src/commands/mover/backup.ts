/** `kubectl backup mover backup PATH [--tag k=v]…`: one snapshot of a directory; prints its id. */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { backup, startBackupScan, type Snapshot } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { usageError } from '../../output/errors.js';
import { writeJson } from '../../output/json.js';
import { withProgress } from '../../output/progress.js';
import type { Session } from '../../session.js';
import { jsonOption, parseTag } from '../options.js';

interface BackupFlags {
  tag?: string[];
  host?: string;
  json?: boolean;
}

export function registerMoverBackup(parent: Command, session: Session): void {
  parent
    .command('backup')
    .description('back up a directory tree into a new snapshot and print its id')
    .argument('<path>', 'directory to back up')
    .option('--tag <tag>', 'tag the snapshot, e.g. --tag app=web (repeatable)', parseTag)
    .option('--host <name>', "host name recorded in the snapshot (default: this machine's)")
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nOutput: the snapshot id; with --json one object {id, shortId, time, host, paths, tags, parent, bytesTotal, bytesAdded, …}.',
    )
    .action((dir: string, opts: BackupFlags, cmd: Command) =>
      runMoverBackup(session, cmd, dir, opts),
    );
}

/** Mover commands print plain lines and never prompt: the password comes from env or file. */
export const MOVER_OPEN = { noPrompt: true, index: true, dataWork: true } as const;

export async function assertDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw usageError(`${dir} is not a directory`);
}

async function runMoverBackup(
  session: Session,
  cmd: Command,
  dir: string,
  opts: BackupFlags,
): Promise<void> {
  const source = path.resolve(session.io.cwd, dir);
  await assertDirectory(source);
  // The tree is scanned (for progress totals) while the repository opens and checks the password.
  const scan = startBackupScan(source, session.io.signal);
  const snapshot = await session
    .withRepo(cmd, { ...MOVER_OPEN, host: opts.host }, (repo) =>
      session.audited(
        repo,
        'snapshot.create',
        () =>
          withProgress(session.io, { json: opts.json, live: false }, (onProgress) =>
            backup(
              repo,
              { directory: source },
              { tags: opts.tag, onProgress, signal: session.io.signal, scan },
            ),
          ),
        (s) => ({
          target: s.id,
          details: {
            paths: s.paths,
            tags: s.tags,
            bytesTotal: s.stats.bytesTotal,
            bytesAdded: s.stats.bytesAdded,
          },
        }),
      ),
    )
    .finally(() => scan.stop());
  if (opts.json) return writeJson(session.io.stdout, snapshotResult(snapshot));
  for (const w of snapshot.warnings ?? []) session.io.stderr.write(`warning: ${w}\n`);
  session.io.stdout.write(`${snapshot.id}\n`);
}

export function snapshotResult(s: Snapshot) {
  return {
    id: s.id,
    shortId: s.id.slice(0, 8),
    time: s.time,
    host: s.host,
    paths: s.paths,
    tags: s.tags,
    ...(s.parent ? { parent: s.parent } : {}),
    ...s.stats,
    ...(s.warnings?.length ? { warnings: s.warnings } : {}),
  };
}
