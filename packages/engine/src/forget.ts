/** forget: applies a retention policy and deletes the snapshots it does not keep. */
import { applyRetention, type GroupByField, type RetentionPolicy, type RetentionResult } from './forget-policy.js';
import { withRepoLock } from './op-lock.js';
import type { Repository } from './repository.js';
import { deleteSnapshot, listSnapshots, type SnapshotFilter } from './snapshots.js';
import type { Snapshot } from './types.js';

export interface ForgetOptions {
  dryRun?: boolean;
  /** Only these snapshots are considered (others are kept untouched). */
  filter?: SnapshotFilter;
  groupBy?: GroupByField[];
  now?: Date;
}

export async function forget(
  repo: Repository,
  policy: RetentionPolicy,
  options: ForgetOptions = {},
): Promise<RetentionResult<Snapshot>> {
  const decide = async () => {
    const snapshots = await listSnapshots(repo, options.filter);
    return applyRetention(snapshots, policy, { now: options.now, groupBy: options.groupBy });
  };
  if (options.dryRun) return decide();
  return withRepoLock(repo, 'exclusive', async () => {
    const result = await decide();
    for (const { snapshot } of result.remove) await deleteSnapshot(repo, snapshot.id);
    return result;
  });
}

/** Deletes the given snapshots (ids or unique prefixes already resolved). */
export async function deleteSnapshots(repo: Repository, ids: string[]): Promise<void> {
  await withRepoLock(repo, 'exclusive', async () => {
    for (const id of ids) await deleteSnapshot(repo, id);
  });
}
