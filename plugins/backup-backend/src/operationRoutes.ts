/**
 * `POST /backups`, `POST /verifications`, `POST /restores` (dry run first) and
 * `GET /operations/:id`. Each POST checks its permission on the entity, records an auditor event
 * (success or failure when the operation ends) and answers 202 with the pending operation.
 */
import type {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import type { Entity } from '@backstage/catalog-model';
import type { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  backupCreatePermission,
  backupReadPermission,
  restoreCreatePermission,
  type BackupTarget,
  type Operation,
} from '@kubectl-backup/plugin-backup-common';
import type { Request, Response, Router } from 'express';
import type { QueryStore } from './database/QueryStore.js';
import type { AccessService } from './services/Access/createAccessService.js';
import type { ClusterPool } from './services/Clusters/ClusterPool.js';
import { entityTarget, targetMatches } from './services/Entities/targets.js';
import type {
  OperationService,
  StartOptions,
} from './services/Operations/createOperationService.js';
import { runBackup, runRestore, runVerify } from './services/Operations/runners.js';
import type { RepositoryPool } from './services/Repositories/RepositoryPool.js';
import { backupBody, operationPath, parse, restoreBody, verifyBody } from './validation.js';

export interface OperationRouteOptions {
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  access: AccessService;
  queries: QueryStore;
  repositories: RepositoryPool;
  clusters: ClusterPool;
  operations: OperationService;
}

/** `backstage:user:default/alice`, the actor recorded in the repository. */
function actorOf(credentials: BackstageCredentials): string {
  const p = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
  return `backstage:${p.userEntityRef ?? p.subject ?? p.type}`;
}

export function addOperationRoutes(router: Router, options: OperationRouteOptions): void {
  const { httpAuth, auditor, access, queries, repositories, clusters, operations } = options;

  function targetOf(entity: Entity, entityRef: string): BackupTarget {
    const resolved = entityTarget(entity);
    if (!resolved.configured)
      throw new InputError(`${entityRef} is not configured for backups: ${resolved.reason}`);
    return resolved.target;
  }

  function repositoryName(name: string | undefined): string {
    const chosen = name ?? repositories.names()[0];
    if (!chosen) throw new InputError('no repository is configured (backup.repositories)');
    repositories.get(chosen);
    return chosen;
  }

  /** The backup, which must belong to the entity's target. */
  async function backupOf(
    repository: string,
    ref: string,
    target: BackupTarget,
    entityRef: string,
  ) {
    const backup = await queries.getBackup(repository, ref);
    if (!backup) throw new NotFoundError(`no backup "${ref}" in repository "${repository}"`);
    if (!targetMatches(target, backup.namespace, backup.cluster)) {
      throw new NotAllowedError(
        `backup ${backup.name} is of namespace ${backup.namespace}, not of ${entityRef}`,
      );
    }
    return backup;
  }

  /** Runs `handle` inside an auditor event that ends with the operation (or fails at once). */
  async function audited(
    req: Request,
    res: Response,
    eventId: string,
    permission: ResourcePermission,
    entityRef: string,
    handle: (ctx: {
      credentials: BackstageCredentials;
      entity: Entity;
      actor: string;
    }) => Promise<Omit<StartOptions, 'onFinished' | 'entityRef' | 'actor'>>,
  ): Promise<void> {
    const event = await auditor.createEvent({
      eventId,
      severityLevel: 'medium',
      request: req,
      meta: { entityRef },
    });
    try {
      const credentials = await httpAuth.credentials(req);
      const entity = await access.requireEntity(credentials, permission, entityRef);
      const actor = actorOf(credentials);
      const start = await handle({ credentials, entity, actor });
      const op = await operations.start({
        ...start,
        entityRef,
        actor,
        onFinished: (final: Operation) => {
          const meta = {
            operationId: final.id,
            kind: final.kind,
            namespace: final.namespace ?? '',
            repository: final.repository,
            status: final.status,
          };
          return final.status === 'succeeded'
            ? event.success({ meta })
            : event.fail({ meta, error: new Error(final.error ?? 'failed') });
        },
      });
      res.status(202).json(op);
    } catch (err) {
      await event.fail({ error: err as Error });
      throw err;
    }
  }

  router.post('/backups', async (req, res) => {
    const body = parse(backupBody, req.body);
    await audited(
      req,
      res,
      'backup-create',
      backupCreatePermission,
      body.entityRef,
      async ({ entity }) => {
        const target = targetOf(entity, body.entityRef);
        return {
          kind: 'backup',
          repository: repositoryName(body.repository),
          cluster: clusters.clusterFor(target),
          namespace: target.namespace,
          params: { ...(body.name ? { name: body.name } : {}) },
          run: (ctx) =>
            runBackup(ctx, {
              namespace: target.namespace,
              ...(body.name ? { name: body.name } : {}),
            }),
        };
      },
    );
  });

  router.post('/verifications', async (req, res) => {
    const body = parse(verifyBody, req.body);
    await audited(
      req,
      res,
      'backup-verify',
      backupCreatePermission,
      body.entityRef,
      async ({ entity }) => {
        const target = targetOf(entity, body.entityRef);
        const repository = repositoryName(body.repository);
        const backup = await backupOf(repository, body.backup, target, body.entityRef);
        return {
          kind: 'verify',
          repository,
          cluster: clusters.clusterFor(target),
          namespace: backup.namespace,
          params: { backup: backup.name, restoreTest: body.restoreTest },
          run: (ctx) => runVerify(ctx, { backup: backup.name, restoreTest: body.restoreTest }),
        };
      },
    );
  });

  router.post('/restores', async (req, res) => {
    const body = parse(restoreBody, req.body);
    await audited(
      req,
      res,
      'restore-create',
      restoreCreatePermission,
      body.entityRef,
      async ({ credentials, entity }) => {
        const target = targetOf(entity, body.entityRef);
        const repository = repositoryName(body.repository);
        const backup = await backupOf(repository, body.backup, target, body.entityRef);
        const cluster = clusters.clusterFor(target);
        const targetNamespace = body.targetNamespace ?? backup.namespace;
        if (targetNamespace !== target.namespace) {
          // Restoring into another namespace changes what other entities own: their permission too.
          await access.requireTarget(
            credentials,
            restoreCreatePermission,
            targetNamespace,
            cluster.name,
          );
        }
        const params = {
          backup: backup.name,
          targetNamespace,
          policy: body.policy,
          dryRun: body.dryRun,
        };
        if (!body.dryRun) await requireDryRun(body.dryRunId!, body.entityRef, repository, params);
        return {
          kind: 'restore',
          repository,
          cluster,
          namespace: targetNamespace,
          params,
          run: (ctx) => runRestore(ctx, params),
        };
      },
    );
  });

  /** A real restore needs a succeeded dry run of the same backup, target and policy. */
  async function requireDryRun(
    id: string,
    entityRef: string,
    repository: string,
    params: { backup: string; targetNamespace: string; policy: string },
  ) {
    const dry = await operations.get(id);
    const same =
      dry &&
      dry.kind === 'restore' &&
      dry.entityRef === entityRef &&
      dry.repository === repository &&
      dry.params.dryRun === true &&
      dry.params.backup === params.backup &&
      dry.params.targetNamespace === params.targetNamespace &&
      dry.params.policy === params.policy;
    if (!same)
      throw new InputError(
        `dryRunId ${id} is not a dry run of this restore (same entity, backup, target namespace and policy)`,
      );
    if (dry.status !== 'succeeded')
      throw new InputError(
        `the dry run ${id} has not succeeded (${dry.status}${dry.error ? `: ${dry.error}` : ''})`,
      );
  }

  router.get('/operations/:id', async (req, res) => {
    const { id } = parse(operationPath, req.params);
    const credentials = await httpAuth.credentials(req);
    const op = await operations.get(id);
    if (!op) throw new NotFoundError(`no operation ${id}`);
    if (op.entityRef) await access.requireEntity(credentials, backupReadPermission, op.entityRef);
    else
      await access.requireTarget(credentials, backupReadPermission, op.namespace ?? '', op.cluster);
    res.json(op);
  });
}
