/** The REST API (openapi.yaml): HTTP in, services out. Every route checks a permission. */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import type { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  auditReadPermission,
  backupReadPermission,
  type BackupTarget,
} from '@kubectl-backup/plugin-backup-common';
import express from 'express';
import Router from 'express-promise-router';
import { addOperationRoutes, type OperationRouteOptions } from './operationRoutes.js';
import { sendJson } from './sendJson.js';
import { entityTarget } from './services/Entities/targets.js';
import type { MetricsService } from './services/Metrics/createMetricsService.js';
import type { ScheduleService } from './services/Schedules/createScheduleService.js';
import type { StatusService } from './services/Status/createStatusService.js';
import {
  auditQuery,
  backupListQuery,
  entityPath,
  parse,
  recordPath,
  restoreListQuery,
  scheduleQuery,
} from './validation.js';

/** Targets restricted to one namespace (asked for in the query). */
function narrow(
  targets: BackupTarget[] | undefined,
  namespace: string | undefined,
): BackupTarget[] | undefined {
  if (!namespace) return targets;
  return (targets ?? [{ namespace }]).filter((t) => t.namespace === namespace);
}

export interface RouterOptions extends OperationRouteOptions {
  status: StatusService;
  metrics: MetricsService;
  schedules: ScheduleService;
  /** Serve /metrics without credentials (backup.metrics.public). */
  metricsPublic: boolean;
}

export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { httpAuth, access, queries, status, repositories } = options;
  const router = Router();
  router.use(express.json({ limit: '100kb' }));

  /** The targets a list may show: the entity's (after checking it), else all the caller may see. */
  async function scope(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    ref: string | undefined,
  ): Promise<BackupTarget[] | undefined> {
    if (!ref) return access.visibleTargets(credentials, permission);
    const resolved = entityTarget(await access.requireEntity(credentials, permission, ref));
    return resolved.configured ? [resolved.target] : [];
  }

  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/entities/:kind/:namespace/:name/status', async (req, res) => {
    const ref = parse(entityPath, req.params);
    const credentials = await httpAuth.credentials(req);
    const entity = await access.requireEntity(credentials, backupReadPermission, ref);
    res.json(await status.entityStatus(entity));
  });

  router.get('/backups', async (req, res) => {
    const q = parse(backupListQuery, req.query);
    const targets = await scope(await httpAuth.credentials(req), backupReadPermission, q.entityRef);
    sendJson(res, await queries.listBackups({ ...q, targets }, q.sort, q.order, q));
  });

  router.get('/backups/:repository/:ref', async (req, res) => {
    const p = parse(recordPath, req.params);
    const credentials = await httpAuth.credentials(req);
    const backup = await queries.getBackup(p.repository, p.ref);
    if (!backup) throw new NotFoundError(`no backup "${p.ref}" in repository "${p.repository}"`);
    await access.requireTarget(credentials, backupReadPermission, backup.namespace, backup.cluster);
    res.json(backup);
  });

  router.get('/restores', async (req, res) => {
    const q = parse(restoreListQuery, req.query);
    const targets = await scope(await httpAuth.credentials(req), backupReadPermission, q.entityRef);
    const filter = { ...q, targets: narrow(targets, q.namespace) };
    sendJson(res, await queries.listRestores(filter, q));
  });

  router.get('/restores/:repository/:ref', async (req, res) => {
    const p = parse(recordPath, req.params);
    const credentials = await httpAuth.credentials(req);
    const restore = await queries.getRestore(p.repository, p.ref);
    if (!restore)
      throw new NotFoundError(`no restore record "${p.ref}" in repository "${p.repository}"`);
    await access.requireTarget(
      credentials,
      backupReadPermission,
      restore.targetNamespace,
      restore.cluster,
    );
    res.json(restore);
  });

  router.get('/audit', async (req, res) => {
    const q = parse(auditQuery, req.query);
    const targets = await scope(await httpAuth.credentials(req), auditReadPermission, q.entityRef);
    const filter = { ...q, targets: narrow(targets, q.namespace) };
    sendJson(res, await queries.listAudit(filter, q));
  });

  router.get('/repositories', async (req, res) => {
    await access.visibleTargets(await httpAuth.credentials(req), backupReadPermission);
    res.json(
      await queries.repositoryStates(
        new Map(repositories.names().map((n) => [n, repositories.location(n)])),
      ),
    );
  });

  router.get('/schedules', async (req, res) => {
    const q = parse(scheduleQuery, req.query);
    const credentials = await httpAuth.credentials(req);
    const all = await options.schedules.list();
    if (q.entityRef) {
      const resolved = entityTarget(
        await access.requireEntity(credentials, backupReadPermission, q.entityRef),
      );
      const t = resolved.configured ? resolved.target : undefined;
      res.json(
        all.filter(
          (s) =>
            s.entityRef === q.entityRef ||
            (t &&
              !s.entityRef &&
              s.namespace === t.namespace &&
              (!s.cluster || !t.cluster || s.cluster === t.cluster)),
        ),
      );
      return;
    }
    // Entity schedules name their namespace only through the catalog: all of them need unconditional read.
    const targets = await access.visibleTargets(credentials, backupReadPermission);
    if (targets !== undefined)
      throw new NotAllowedError(
        'listing every schedule needs backup.backup.read on every entity: give entityRef',
      );
    res.json(all);
  });

  router.get('/metrics', async (req, res) => {
    if (!options.metricsPublic) {
      // Metrics cover every namespace: only for callers allowed to read all backups.
      const all = await access.visibleTargets(
        await httpAuth.credentials(req),
        backupReadPermission,
      );
      if (all !== undefined)
        throw new NotAllowedError('/metrics needs backup.backup.read on every entity');
    }
    res.type(options.metrics.contentType).send(await options.metrics.metrics());
  });

  addOperationRoutes(router, options);
  return router;
}
