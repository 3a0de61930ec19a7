/** `kubectl backup repo unlock [--remove-all]`: removes stale (or all) locks. */
import { describeLock, listLocks, removeAllLocks, removeStaleLocks } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import type { Session } from '../../session.js';

export function registerUnlock(parent: Command, session: Session): void {
  parent
    .command('unlock')
    .description(
      'remove stale locks left by crashed processes; --remove-all also removes live ones (only when nothing runs!)',
    )
    .option('--remove-all', 'remove every lock, including those of running operations')
    .action((opts: { removeAll?: boolean }, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const removeAll = Boolean(opts.removeAll);
        const removed = await session.audited(
          repo,
          'repo.unlock',
          () => (removeAll ? removeAllLocks(repo) : removeStaleLocks(repo)),
          (n) => ({ details: { removed: n, removeAll } }),
        );
        const out = session.io.stdout;
        out.write(`removed ${removed} ${removeAll ? '' : 'stale '}lock(s)\n`);
        const now = Date.now();
        for (const lock of await listLocks(repo)) {
          if (lock.namespace) continue;
          out.write(
            lock.readable
              ? `still locked: ${describeLock(lock, now)}\n`
              : `unreadable lock ${lock.key}: ${lock.error}\n`,
          );
        }
      }),
    );
}
