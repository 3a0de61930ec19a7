/** `kubectl backup logs NAME`: the operation log stored with a backup or a restore/verify record. */
import {
  findBackup,
  isK8sError,
  KIND_RESTORE_RECORD,
  KIND_VERIFY_RECORD,
  listRecords,
  readLog,
  tagValue,
} from '@kubectl-backup/k8s';
import type { Repository, Snapshot } from '@kubectl-backup/engine';
import { Option, type Command } from 'commander';
import { addClusterOptions, k8sErrors, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { formatTime } from '../../output/format.js';
import type { Session } from '../../session.js';

const LEVELS = ['debug', 'info', 'warn', 'error'];

interface LogsFlags extends ClusterFlags {
  level: string;
  output: ReadFormat;
}

export function registerLogs(parent: Command, session: Session): void {
  const cmd = parent
    .command('logs')
    .description(
      'show the log of a backup, restore or verification: what was captured or skipped and why, warnings, timings',
    )
    .argument(
      '<name>',
      'backup name (or snapshot id prefix), or the name of a restore/verify record',
    );
  addClusterOptions(cmd)
    .addOption(new Option('--level <level>', 'lowest level shown').choices(LEVELS).default('info'))
    .addOption(readOutputOption(['json', 'yaml']))
    .action((name: string, opts: LogsFlags, c: Command) =>
      session.withRepo(c, { index: true }, async (repo) => {
        const snapshot = await k8sErrors(() => findLogOwner(repo, name, opts.namespace));
        const min = LEVELS.indexOf(opts.level);
        const entries = (await readLog(repo, snapshot)).filter(
          (e) => LEVELS.indexOf(String(e.level)) >= min,
        );
        if (writeDocument(session.io.stdout, opts.output, entries)) return;
        for (const e of entries) {
          session.io.stdout.write(
            `${formatTime(String(e.time))}  ${String(e.level).padEnd(5)}  ${String(e.event).padEnd(16)}  ${String(e.message)}\n`,
          );
        }
      }),
    );
}

/** The snapshot holding the log: a backup, else a restore or verify record of that name. */
async function findLogOwner(repo: Repository, name: string, namespace?: string): Promise<Snapshot> {
  try {
    return (await findBackup(repo, name, { namespace })).snapshot;
  } catch (err) {
    if (!isK8sError(err, 'ENOTFOUND')) throw err;
    for (const kind of [KIND_RESTORE_RECORD, KIND_VERIFY_RECORD] as const) {
      const record = (await listRecords(repo, kind, { namespace })).find(
        (r) => tagValue(r.tags, 'name') === name,
      );
      if (record) return record;
    }
    throw err;
  }
}
