/** `kubectl backup mover restore SNAPSHOT PATH`: a snapshot's directory tree into PATH. */
import path from 'node:path';
import { findSnapshot, restoreDirectory } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { formatBytes } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { withProgress } from '../../output/progress.js';
import type { Session } from '../../session.js';
import { jsonOption } from '../options.js';
import { MOVER_OPEN } from './backup.js';

export function registerMoverRestore(parent: Command, session: Session): void {
  parent
    .command('restore')
    .description(
      'restore a snapshot into a directory (created if missing; existing files are overwritten)',
    )
    .argument('<snapshot>', 'snapshot id, unique prefix (4+ characters) or "latest"')
    .argument('<path>', 'target directory')
    .addOption(jsonOption())
    .option(
      '--page-cache',
      'write through the page cache instead of direct I/O: faster for a small restore on an idle ' +
        'machine, but the command may end before the data is on the device',
    )
    .addHelpText(
      'after',
      '\nLarge writes bypass the page cache (direct I/O) where the file system allows it, so the\n' +
        "restore does not fill the pod's memory with cache and ends with its data on the device.\n" +
        '\nOutput: one line; with --json one object {snapshot, target, files, dirs, bytes}.',
    )
    .action(
      (ref: string, dir: string, opts: { json?: boolean; pageCache?: boolean }, cmd: Command) =>
        session.withRepo(cmd, MOVER_OPEN, async (repo) => {
          const target = path.resolve(session.io.cwd, dir);
          const snapshot = await findSnapshot(repo, ref);
          const result = await session.audited(
            repo,
            'snapshot.restore',
            () =>
              withProgress(session.io, { json: opts.json, live: false }, (onProgress) =>
                restoreDirectory(repo, snapshot, target, {
                  onProgress,
                  signal: session.io.signal,
                  directWrites: !opts.pageCache,
                }),
              ),
            (r) => ({ details: { target, ...r } }),
            snapshot.id,
          );
          if (opts.json) writeJson(session.io.stdout, { snapshot: snapshot.id, target, ...result });
          else
            session.io.stdout.write(
              `restored snapshot ${snapshot.id.slice(0, 8)} to ${target}: ${result.files} files, ${result.dirs} dirs, ${formatBytes(result.bytes)}\n`,
            );
        }),
    );
}
