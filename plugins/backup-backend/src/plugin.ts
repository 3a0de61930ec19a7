/** The backup backend plugin: wires core services to the ingest, the API and the operations. */
import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { backupPermissions } from '@kubectl-backup/plugin-backup-common';
import { readBackupConfig } from './config/index.js';
import { IngestStore } from './database/IngestStore.js';
import { MetricsQueries } from './database/MetricsQueries.js';
import { applyDatabaseMigrations } from './database/migrate.js';
import { QueryStore } from './database/QueryStore.js';
import { createRouter } from './router.js';
import { createAccessService } from './services/Access/createAccessService.js';
import { ClusterPool } from './services/Clusters/ClusterPool.js';
import { createEntityIndex } from './services/Entities/entityIndex.js';
import { createIngestService } from './services/Ingest/createIngestService.js';
import { ingestChangedRows } from './services/Ingest/types.js';
import { createMetricsService } from './services/Metrics/createMetricsService.js';
import { createOperationService } from './services/Operations/createOperationService.js';
import { OperationStore } from './services/Operations/OperationStore.js';
import { RepositoryPool } from './services/Repositories/RepositoryPool.js';
import { createScheduleService } from './services/Schedules/createScheduleService.js';
import { ScheduleStore } from './services/Schedules/ScheduleStore.js';
import { createStatusService } from './services/Status/createStatusService.js';

/** The scheduler task that ingests every repository. */
export const INGEST_TASK_ID = 'backup-ingest';

export const backupPlugin = createBackendPlugin({
  pluginId: 'backup',
  register(env) {
    env.registerInit({
      deps: {
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        database: coreServices.database,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        auth: coreServices.auth,
        catalog: catalogServiceRef,
      },
      async init(deps) {
        const { logger, scheduler, httpRouter, httpAuth, auditor } = deps;
        const config = readBackupConfig(deps.config);
        const knex = await deps.database.getClient();
        if (!deps.database.migrations?.skip) await applyDatabaseMigrations(knex);
        deps.permissionsRegistry.addPermissions(backupPermissions);

        const repositories = new RepositoryPool(config.repositories);
        const clusters = new ClusterPool(config.clusters);
        const queries = new QueryStore(knex, config.cache);
        const ingest = createIngestService({
          repositories,
          store: new IngestStore(knex),
          logger,
          onResult: (r) => {
            if (ingestChangedRows(r)) queries.changed();
          },
        });
        const operations = createOperationService({
          store: new OperationStore(knex),
          repositories,
          clusters,
          ingest,
          logger,
        });
        deps.lifecycle.addShutdownHook(() => operations.shutdown());

        const schedules = createScheduleService({
          schedules: config.schedules,
          store: new ScheduleStore(knex),
          scheduler,
          repositories,
          clusters,
          catalog: deps.catalog,
          auth: deps.auth,
          ingest,
          logger,
        });
        await schedules.start();

        const { frequency, timeoutMs } = config.ingest;
        await scheduler.scheduleTask({
          id: INGEST_TASK_ID,
          frequency,
          timeout: { milliseconds: timeoutMs },
          fn: async (signal) => {
            await ingest.ingestAll(signal);
          },
        });

        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        if (config.metrics.public)
          httpRouter.addAuthPolicy({ path: '/metrics', allow: 'unauthenticated' });
        httpRouter.use(
          await createRouter({
            httpAuth,
            auditor,
            access: createAccessService({
              permissions: deps.permissions,
              catalog: deps.catalog,
              cache: config.cache,
            }),
            queries,
            status: createStatusService({ queries, rpo: config.rpo, nextRun: schedules.nextRun }),
            schedules,
            repositories,
            clusters,
            operations,
            metrics: createMetricsService({
              queries: new MetricsQueries(knex),
              entityOf: createEntityIndex({ catalog: deps.catalog, auth: deps.auth, logger }),
            }),
            metricsPublic: config.metrics.public,
          }),
        );
        logger.info(
          `backup: ${config.repositories.length} repositories, ${config.clusters.length} clusters, ingest every ${describeFrequency(frequency)}, cache ttl ${config.cache.ttlMs / 1000} s`,
        );
      },
    });
  },
});

function describeFrequency(f: { cron: string } | { milliseconds: number }): string {
  return 'cron' in f ? `cron "${f.cron}"` : `${Math.round(f.milliseconds / 1000)} s`;
}
