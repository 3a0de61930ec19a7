/**
 * An entity's backup status: last backup and its age against the RPO, failures, sizes,
 * verification. The database part comes from `QueryStore.targetStatus` (cached per target for
 * backup.cache.ttl, cleared by the ingest); the age and the next scheduled run are computed per call.
 */
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { BackupTarget, EntityStatus } from '@kubectl-backup/plugin-backup-common';
import type { BackupConfig } from '../../config/index.js';
import type { QueryStore } from '../../database/QueryStore.js';
import { compact } from '../../database/values.js';
import { entityTarget } from '../Entities/targets.js';

export interface StatusService {
  entityStatus(entity: Entity): Promise<EntityStatus>;
}

export interface StatusServiceOptions {
  queries: QueryStore;
  rpo: BackupConfig['rpo'];
  /** The next scheduled backup of the entity or target, if any. */
  nextRun?: (entityRef: string, target: BackupTarget) => Promise<string | undefined>;
  now?: () => number;
}

export function createStatusService(options: StatusServiceOptions): StatusService {
  const now = options.now ?? Date.now;
  return {
    async entityStatus(entity) {
      const entityRef = stringifyEntityRef(entity);
      const resolved = entityTarget(entity);
      if (!resolved.configured)
        return { entityRef, configured: false, reason: resolved.reason, backups: 0 };
      const { target } = resolved;
      const rpoMs = options.rpo.entities.get(entityRef) ?? options.rpo.defaultMs;
      const [stats, nextRun] = await Promise.all([
        options.queries.targetStatus(target),
        options.nextRun?.(entityRef, target),
      ]);
      const last = stats.last;
      const ageMs = last ? Math.max(0, now() - Date.parse(last.time)) : undefined;
      return compact({
        entityRef,
        configured: true,
        target,
        rpo: {
          seconds: Math.round(rpoMs / 1000),
          state: ageMs === undefined ? 'none' : ageMs <= rpoMs ? 'ok' : 'late',
        },
        lastBackup: last,
        ageSeconds: ageMs === undefined ? undefined : Math.floor(ageMs / 1000),
        lastFailure: stats.lastFailure,
        nextScheduledRun: nextRun,
        backups: stats.count,
        size: last
          ? {
              lastBytes: last.sizeTotal,
              logicalBytes: stats.logicalBytes,
              storedBytes: stats.storedBytes,
              dedupRatio: stats.storedBytes > 0 ? stats.logicalBytes / stats.storedBytes : 1,
            }
          : undefined,
        verification: last?.verification,
      }) as EntityStatus;
    },
  };
}
