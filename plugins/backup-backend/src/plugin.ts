/** The backup backend plugin: wires core services to the ingest, the API and (later) operations. */
import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { backupPermissions } from '@kubectl-backup/plugin-backup-common';
import { readBackupConfig } from './config/index.js';
import { IngestStore } from './database/IngestStore.js';
import { applyDatabaseMigrations } from './database/migrate.js';
import { QueryStore } from './database/QueryStore.js';
import { createRouter } from './router.js';
import { createAccessService } from './services/Access/createAccessService.js';
import { createIngestService } from './services/Ingest/createIngestService.js';
import { RepositoryPool } from './services/Repositories/RepositoryPool.js';
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
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        catalog: catalogServiceRef,
      },
      async init({
        config,
        logger,
        database,
        scheduler,
        httpRouter,
        httpAuth,
        permissions,
        permissionsRegistry,
        catalog,
      }) {
        const backupConfig = readBackupConfig(config);
        const knex = await database.getClient();
        if (!database.migrations?.skip) await applyDatabaseMigrations(knex);
        permissionsRegistry.addPermissions(backupPermissions);

        const repositories = new RepositoryPool(backupConfig.repositories);
        const queries = new QueryStore(knex);
        const ingest = createIngestService({ repositories, store: new IngestStore(knex), logger });
        const { frequency, timeoutMs } = backupConfig.ingest;
        await scheduler.scheduleTask({
          id: INGEST_TASK_ID,
          frequency,
          timeout: { milliseconds: timeoutMs },
          fn: async (signal) => {
            await ingest.ingestAll(signal);
          },
        });

        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        httpRouter.use(
          await createRouter({
            httpAuth,
            access: createAccessService({ permissions, catalog }),
            queries,
            status: createStatusService({ queries, rpo: backupConfig.rpo }),
            repositories,
          }),
        );
        logger.info(
          `backup: ${backupConfig.repositories.length} repositories, ${backupConfig.clusters.length} clusters, ingest every ${describeFrequency(frequency)}`,
        );
      },
    });
  },
});

function describeFrequency(f: { cron: string } | { milliseconds: number }): string {
  return 'cron' in f ? `cron "${f.cron}"` : `${Math.round(f.milliseconds / 1000)} s`;
}
