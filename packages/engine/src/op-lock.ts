/** Runs an operation under a repository lock: shared for backups, exclusive for prune. */
import type { Repository } from './repository.js';
import { acquireLock } from './lock.js';

export async function withRepoLock<T>(
  repo: Repository,
  mode: 'shared' | 'exclusive',
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(repo, { exclusive: mode === 'exclusive', host: repo.host, user: repo.user });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
