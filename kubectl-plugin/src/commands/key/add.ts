/** `repo key add` (another password) and `repo key passwd` (replace this session's password). */
import type { Command } from 'commander';
import { keyOptions } from '../../config.js';
import type { Session } from '../../session.js';
import { NEW_PASSWORD_FLAG, newPassword, type NewPasswordFlags } from './new-password.js';

export function registerKeyAdd(parent: Command, session: Session): void {
  parent
    .command('add')
    .description('add a password: afterwards either password opens the repository')
    .option(...NEW_PASSWORD_FLAG)
    .action((opts: NewPasswordFlags, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const password = await newPassword(session.io, opts);
        const id = await session.audited(
          repo,
          'key.add',
          () => repo.addKey(password, keyOptions(session.io.env)),
          (keyId) => ({ target: keyId }),
        );
        session.io.stdout.write(`added key ${id.slice(0, 8)}\n`);
      }),
    );
}

export function registerKeyPasswd(parent: Command, session: Session): void {
  parent
    .command('passwd')
    .description(
      'change the password used to open the repository (replaces its key; other keys stay)',
    )
    .option(...NEW_PASSWORD_FLAG)
    .action((opts: NewPasswordFlags, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const password = await newPassword(session.io, opts);
        const old = repo.keyId;
        const id = await session.audited(
          repo,
          'key.passwd',
          () => repo.changePassword(password, keyOptions(session.io.env)),
          (keyId) => ({
            target: keyId,
            details: { replaced: old },
          }),
        );
        session.io.stdout.write(
          `changed password: key ${old.slice(0, 8)} replaced by ${id.slice(0, 8)}\n`,
        );
      }),
    );
}
