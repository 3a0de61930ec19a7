/**
 * Runs operations started from the portal in this backend process: the request returns at once
 * with a pending operation; its progress, result or error are written to the `operations` table
 * (progress at most twice a second) and can be read from any replica. When an operation ends,
 * its repository is ingested before the operation reads as ended, so that its backup, record and
 * audit entries are listed by then.
 * On shutdown, running operations are cancelled and marked failed.
 */
import { randomUUID } from 'node:crypto';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type {
  Operation,
  OperationKind,
  OperationProgress,
} from '@kubectl-backup/plugin-backup-common';
import type { ClusterConfig } from '../../config/index.js';
import type { ClusterPool } from '../Clusters/ClusterPool.js';
import type { IngestService } from '../Ingest/types.js';
import type { RepositoryPool } from '../Repositories/RepositoryPool.js';
import type { OperationStore } from './OperationStore.js';
import type { RunContext } from './runners.js';

const PROGRESS_INTERVAL_MS = 500;

export interface StartOptions {
  kind: OperationKind;
  entityRef: string;
  repository: string;
  cluster: ClusterConfig;
  namespace: string;
  actor: string;
  params: Record<string, unknown>;
  run: (ctx: RunContext) => Promise<Record<string, unknown>>;
  /** Called once the operation has ended (auditor events). */
  onFinished?: (op: Operation) => void | Promise<void>;
}

export interface OperationService {
  start(options: StartOptions): Promise<Operation>;
  get(id: string): Promise<Operation | undefined>;
  /** Resolves when the operation has ended (tests, shutdown). */
  settled(id: string): Promise<void>;
  shutdown(): Promise<void>;
}

export function createOperationService(deps: {
  store: OperationStore;
  repositories: RepositoryPool;
  clusters: ClusterPool;
  ingest: IngestService;
  logger: LoggerService;
}): OperationService {
  const { store, repositories, clusters, ingest, logger } = deps;
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  async function execute(
    op: Operation,
    options: StartOptions,
    abort: AbortController,
  ): Promise<void> {
    let lastWrite = 0;
    let latest: OperationProgress | undefined;
    let writing: Promise<void> = Promise.resolve();
    const onProgress = (p: OperationProgress) => {
      latest = p;
      const now = Date.now();
      if (now - lastWrite < PROGRESS_INTERVAL_MS) return;
      lastWrite = now;
      writing = writing.then(() => store.progress(op.id, p)).catch(() => undefined);
    };
    await store.started(op.id, new Date().toISOString());
    let outcome: {
      status: 'succeeded' | 'failed';
      result?: Record<string, unknown>;
      error?: string;
    };
    try {
      const kc = clusters.kubeConfig(options.cluster);
      const result = await repositories.withRepository(
        op.repository,
        { index: true, user: op.actor, host: 'backstage' },
        (repo) => options.run({ repo, kc, actor: op.actor, signal: abort.signal, onProgress }),
      );
      outcome = { status: 'succeeded', result };
    } catch (err) {
      outcome = { status: 'failed', error: (err as Error).message };
      logger.warn(`operation ${op.id} (${op.kind} of ${op.namespace}) failed: ${outcome.error}`);
    }
    await writing;
    if (latest) await store.progress(op.id, latest).catch(() => undefined);
    // Ingest first: once an operation reads as ended, its backup, record and audit entries are listed.
    await ingest
      .ingestRepository(op.repository)
      .catch((err: Error) => logger.warn(`ingest after operation ${op.id}: ${err.message}`));
    const finishedAt = new Date().toISOString();
    await options.onFinished?.({
      ...op,
      ...outcome,
      finishedAt,
      ...(latest ? { progress: latest } : {}),
    });
    await store.finished(op.id, { ...outcome, time: finishedAt });
  }

  return {
    async start(options) {
      repositories.get(options.repository);
      const op: Operation = {
        id: randomUUID(),
        kind: options.kind,
        status: 'pending',
        entityRef: options.entityRef,
        repository: options.repository,
        cluster: options.cluster.name,
        namespace: options.namespace,
        actor: options.actor,
        params: options.params,
        createdAt: new Date().toISOString(),
      };
      await store.create(op);
      const abort = new AbortController();
      const done = execute(op, options, abort)
        .catch((err: Error) => logger.error(`operation ${op.id}: ${err.message}`))
        .finally(() => running.delete(op.id));
      running.set(op.id, { abort, done });
      return op;
    },
    get: (id) => store.get(id),
    async settled(id) {
      await running.get(id)?.done;
    },
    async shutdown() {
      const ids = [...running.keys()];
      for (const r of running.values()) r.abort.abort();
      await Promise.all([...running.values()].map((r) => r.done));
      await store.failInterrupted(ids, new Date().toISOString());
    },
  };
}
