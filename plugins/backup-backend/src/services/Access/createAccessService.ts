/**
 * Permission checks of the routes. Every permission is a resource permission on catalog
 * entities: a route about one entity authorizes that entity; a backup, restore or audit entry
 * is authorized through the entities that map to its namespace; lists without an entity are
 * narrowed to the targets of the entities the caller may see (or everything, when the policy
 * allows unconditionally).
 *
 * Catalog answers and permission decisions are cached per caller for `cache.ttlMs`
 * (backup.cache.ttl): a revoked permission or a changed entity takes effect within that time.
 */
import type { BackstageCredentials, PermissionsService } from '@backstage/backend-plugin-api';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { AuthorizeResult, type ResourcePermission } from '@backstage/plugin-permission-common';
import {
  KUBERNETES_NAMESPACE_ANNOTATION,
  type BackupTarget,
} from '@kubectl-backup/plugin-backup-common';
import type { CacheOptions } from '../Cache/TtlCache.js';
import { entityTarget, targetMatches } from '../Entities/targets.js';
import { cachedCatalog, type AccessCatalog } from './cachedCatalog.js';
import { cachedPermissions } from './cachedPermissions.js';

export interface AccessService {
  /** The entity, after checking `permission` on it (NotFoundError, NotAllowedError). */
  requireEntity(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    entityRef: string,
  ): Promise<Entity>;
  /** Targets the caller may see; `undefined` means all. */
  visibleTargets(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
  ): Promise<BackupTarget[] | undefined>;
  /** Checks `permission` on the entities of a namespace (NotAllowedError if none is allowed). */
  requireTarget(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    namespace: string,
    cluster: string | undefined,
  ): Promise<void>;
}

const ANNOTATION_FILTER_KEY = `metadata.annotations.${KUBERNETES_NAMESPACE_ANNOTATION}`;
const FIELDS = ['kind', 'metadata.namespace', 'metadata.name', 'metadata.annotations'];

export function createAccessService(options: {
  permissions: PermissionsService;
  catalog: AccessCatalog;
  cache: CacheOptions;
}): AccessService {
  const permissions = cachedPermissions(options.permissions, options.cache);
  const catalog = cachedCatalog(options.catalog, options.cache);

  async function allowedEntities(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
    entities: Entity[],
  ): Promise<Entity[]> {
    if (entities.length === 0) return [];
    const decisions = await permissions.authorize(
      entities.map((e) => ({ permission, resourceRef: stringifyEntityRef(e) })),
      { credentials },
    );
    return entities.filter((_, i) => decisions[i]?.result === AuthorizeResult.ALLOW);
  }

  async function unconditional(
    credentials: BackstageCredentials,
    permission: ResourcePermission,
  ): Promise<AuthorizeResult> {
    const [decision] = await permissions.authorizeConditional([{ permission }], { credentials });
    return decision!.result;
  }

  return {
    async requireEntity(credentials, permission, entityRef) {
      const entity = await catalog.getEntityByRef(entityRef, { credentials });
      if (!entity) throw new NotFoundError(`no entity ${entityRef} in the catalog`);
      const [allowed] = await allowedEntities(credentials, permission, [entity]);
      if (!allowed) throw new NotAllowedError(`${permission.name} is not allowed on ${entityRef}`);
      return entity;
    },

    async visibleTargets(credentials, permission) {
      const result = await unconditional(credentials, permission);
      if (result === AuthorizeResult.ALLOW) return undefined;
      if (result === AuthorizeResult.DENY)
        throw new NotAllowedError(`${permission.name} is not allowed`);
      const { items } = await catalog.getEntities(
        { filter: { [ANNOTATION_FILTER_KEY]: CATALOG_FILTER_EXISTS }, fields: FIELDS },
        { credentials },
      );
      const allowed = await allowedEntities(credentials, permission, items);
      return allowed.flatMap((e) => {
        const t = entityTarget(e);
        return t.configured ? [t.target] : [];
      });
    },

    async requireTarget(credentials, permission, namespace, cluster) {
      const result = await unconditional(credentials, permission);
      if (result === AuthorizeResult.ALLOW) return;
      if (result === AuthorizeResult.CONDITIONAL) {
        const { items } = await catalog.getEntities(
          { filter: { [ANNOTATION_FILTER_KEY]: namespace }, fields: FIELDS },
          { credentials },
        );
        const owners = items.filter((e) => {
          const t = entityTarget(e);
          return t.configured && targetMatches(t.target, namespace, cluster);
        });
        if ((await allowedEntities(credentials, permission, owners)).length > 0) return;
      }
      throw new NotAllowedError(`${permission.name} is not allowed on namespace ${namespace}`);
    },
  };
}
