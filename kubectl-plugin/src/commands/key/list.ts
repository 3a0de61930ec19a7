/** `repo key list`: keys (id, current, user, host, created). */
import type { KeyInfo } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { formatTime } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { writeTable } from '../../output/table.js';
import type { Session } from '../../session.js';
import { outputOption, type OutputFormat } from '../options.js';

export function registerKeyList(parent: Command, session: Session): void {
  parent
    .command('list')
    .description('list the keys; * marks the one this password opened')
    .addOption(outputOption())
    .action((opts: { output: OutputFormat }, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const keys = await repo.listKeys();
        if (opts.output === 'json') return writeJson(session.io.stdout, keys);
        writeTable<KeyInfo>(
          session.io.stdout,
          keys,
          [
            { header: ' ', value: (k) => (k.current ? '*' : ' ') },
            { header: 'ID', value: (k) => k.id.slice(0, 8) },
            { header: 'USER', value: (k) => k.user },
            { header: 'HOST', value: (k) => k.host },
            { header: 'CREATED', value: (k) => formatTime(k.created) },
          ],
          'no keys',
        );
      }),
    );
}
