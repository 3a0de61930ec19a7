/** `repo key remove ID`: deletes a key (not the one in use). */
import type { Command } from 'commander';
import type { Session } from '../../session.js';

export function registerKeyRemove(parent: Command, session: Session): void {
  parent
    .command('remove')
    .description(
      'remove a key by id (or unique prefix); its password no longer opens the repository',
    )
    .argument('<id>', 'key id or unique prefix (see "repo key list")')
    .action((id: string, _opts: unknown, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        await session.audited(repo, 'key.remove', () => repo.removeKey(id), undefined, id);
        session.io.stdout.write(`removed key ${id}\n`);
      }),
    );
}
