/**
 * Scheduled backups (`backup.schedules`): one scheduler task per schedule (global scope, so one
 * replica runs a tick), and each run claims its cron slot in `schedule_runs` before doing
 * anything, so a slot is never run twice even if two replicas fire. A run backs up the
 * namespace through @kubectl-backup/k8s as `<namespace>-<schedule>-<slot time>`, tagged
 * `schedule=<name>`, with the actor
 * `backstage:schedule/<name>`, then applies the retention policy to that schedule's backups
 * only (engine `forget`, audited as `backup.forget`), and ingests the repository.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuthService, LoggerService, SchedulerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { appendAudit, forget, type Repository } from '@kubectl-backup/engine';
import { defaultBackupName, KIND_NAMESPACE_BACKUP, tag } from '@kubectl-backup/k8s';
import type { BackupTarget, ScheduleSummary } from '@kubectl-backup/plugin-backup-common';
import type { ScheduleConfig } from '../../config/index.js';
import { compact } from '../../database/values.js';
import type { ClusterPool } from '../Clusters/ClusterPool.js';
import { entityTarget } from '../Entities/targets.js';
import type { IngestService } from '../Ingest/types.js';
import { runBackup } from '../Operations/runners.js';
import type { RepositoryPool } from '../Repositories/RepositoryPool.js';
import { nextOccurrence, previousOccurrence } from './cron.js';
import type { ScheduleStore } from './ScheduleStore.js';

export const scheduleTaskId = (name: string) => `backup-schedule:${name}`;
const RUN_TIMEOUT = { hours: 2 };

export interface ScheduleService {
  /** Registers a scheduler task per schedule and records the schedules in the database. */
  start(): Promise<void>;
  /** Runs a schedule's current slot now (what the scheduler task does). */
  run(name: string, signal?: AbortSignal): Promise<void>;
  /** The next scheduled backup of an entity or its target. */
  nextRun(entityRef: string, target: BackupTarget): Promise<string | undefined>;
  list(): Promise<ScheduleSummary[]>;
}

export function createScheduleService(deps: {
  schedules: ScheduleConfig[];
  store: ScheduleStore;
  scheduler: SchedulerService;
  repositories: RepositoryPool;
  clusters: ClusterPool;
  catalog: CatalogService;
  auth: AuthService;
  ingest: IngestService;
  logger: LoggerService;
  /** Identifies this process in `schedule_runs.instance`. */
  instance?: string;
}): ScheduleService {
  const { schedules, store, repositories, clusters, logger } = deps;
  const instance = deps.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const byName = new Map(schedules.map((s) => [s.name, s]));
  const next = (s: ScheduleConfig, after = new Date()) =>
    nextOccurrence(s.cron, after)?.toISOString();

  async function targetOf(s: ScheduleConfig): Promise<BackupTarget> {
    if (!s.entity) return compact({ namespace: s.namespace!, cluster: s.cluster });
    const credentials = await deps.auth.getOwnServiceCredentials();
    const entity = await deps.catalog.getEntityByRef(s.entity, { credentials });
    if (!entity) throw new Error(`schedule ${s.name}: no entity ${s.entity} in the catalog`);
    const resolved = entityTarget(entity);
    if (!resolved.configured)
      throw new Error(
        `schedule ${s.name}: ${s.entity} is not configured for backups: ${resolved.reason}`,
      );
    return s.cluster ? { ...resolved.target, cluster: s.cluster } : resolved.target;
  }

  async function retain(
    repo: Repository,
    s: ScheduleConfig,
    namespace: string,
    cluster: string,
    actor: string,
  ): Promise<number> {
    const tags = [
      tag('kind', KIND_NAMESPACE_BACKUP),
      tag('namespace', namespace),
      `schedule=${s.name}`,
    ];
    try {
      const result = await forget(repo, s.retention!, { filter: { tags }, groupBy: [] });
      const removed = result.remove.map((d) => d.snapshot.id);
      await appendAudit(repo, {
        actor,
        action: 'backup.forget',
        target: namespace,
        outcome: 'success',
        namespace,
        cluster,
        details: {
          policy: { ...s.retention },
          tags: [`schedule=${s.name}`],
          removed,
          kept: result.keep.length,
        },
      });
      return removed.length;
    } catch (err) {
      await appendAudit(repo, {
        actor,
        action: 'backup.forget',
        target: namespace,
        outcome: 'failure',
        namespace,
        cluster,
        details: { error: (err as Error).message },
      }).catch(() => undefined);
      throw err;
    }
  }

  async function run(name: string, signal = new AbortController().signal): Promise<void> {
    const s = byName.get(name);
    if (!s) throw new Error(`no schedule named ${name}`);
    const startedAt = new Date();
    const slot = (previousOccurrence(s.cron, startedAt) ?? startedAt).toISOString();
    const runId = await store.claim(s.name, slot, startedAt.toISOString(), instance);
    if (runId === undefined) {
      logger.info(`schedule ${s.name}: slot ${slot} already run`);
      return;
    }
    const actor = `backstage:schedule/${s.name}`;
    let outcome: {
      outcome: 'success' | 'failure';
      backup?: string;
      forgotten?: number;
      error?: string;
    };
    try {
      const target = await targetOf(s);
      const cluster = clusters.clusterFor(target);
      const kc = clusters.kubeConfig(cluster);
      outcome = await repositories.withRepository(
        s.repository,
        { index: true, user: actor, host: 'backstage' },
        async (repo) => {
          // Named after the slot: a slot run twice could not make two backups.
          const backupName = defaultBackupName(`${target.namespace}-${s.name}`, new Date(slot));
          const b = await runBackup(
            { repo, kc, actor, signal, onProgress: () => undefined },
            { namespace: target.namespace, name: backupName, tags: [`schedule=${s.name}`] },
          );
          const forgotten = s.retention
            ? await retain(repo, s, target.namespace, cluster.name, actor)
            : 0;
          return { outcome: 'success' as const, backup: String(b.backup), forgotten };
        },
      );
      logger.info(
        `schedule ${s.name}: backup ${outcome.backup}, ${outcome.forgotten} old backups forgotten`,
      );
    } catch (err) {
      outcome = { outcome: 'failure', error: (err as Error).message };
      logger.error(`schedule ${s.name}: ${outcome.error}`);
    }
    await deps.ingest
      .ingestRepository(s.repository)
      .catch((err: Error) => logger.warn(`ingest after schedule ${s.name}: ${err.message}`));
    const nextRun = next(s);
    await store.finish(runId, s.name, {
      ...outcome,
      finishedAt: new Date().toISOString(),
      ...(nextRun ? { nextRun } : {}),
    });
  }

  return {
    async start() {
      await store.sync(schedules, (s) => next(s));
      for (const s of schedules) {
        repositories.get(s.repository);
        await deps.scheduler.scheduleTask({
          id: scheduleTaskId(s.name),
          frequency: { cron: s.cron },
          timeout: RUN_TIMEOUT,
          scope: 'global',
          fn: (signal) => run(s.name, signal),
        });
      }
    },
    run,
    async nextRun(entityRef, target) {
      const times = schedules
        .filter((s) =>
          s.entity
            ? s.entity === entityRef
            : s.namespace === target.namespace &&
              (!s.cluster || !target.cluster || s.cluster === target.cluster),
        )
        .map((s) => next(s))
        .filter((t): t is string => t !== undefined)
        .sort();
      return times[0];
    },
    async list() {
      const last = await store.lastRuns();
      return schedules.map((s) =>
        compact({
          name: s.name,
          entityRef: s.entity,
          namespace: s.namespace,
          cluster: s.cluster,
          cron: s.cron,
          repository: s.repository,
          retention: s.retention
            ? ({ ...s.retention } as Record<string, number | string>)
            : undefined,
          nextRun: next(s),
          lastRun: last.get(s.name),
        }),
      );
    },
  };
}
