/**
 * Which entity a namespace (in a cluster) belongs to, for metric labels: the catalog's entities
 * with a namespace annotation, read with the plugin's own credentials and kept for a minute.
 */
import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { stringifyEntityRef } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  KUBERNETES_NAMESPACE_ANNOTATION,
  type BackupTarget,
} from '@kubectl-backup/plugin-backup-common';
import { entityTarget, targetMatches } from './targets.js';

export type EntityOf = (namespace: string, cluster: string) => string;

export function createEntityIndex(options: {
  catalog: CatalogService;
  auth: AuthService;
  logger: LoggerService;
  ttlMs?: number;
}): () => Promise<EntityOf> {
  const ttlMs = options.ttlMs ?? 60_000;
  let cached: { at: number; lookup: EntityOf } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.lookup;
    let entries: Array<{ ref: string; target: BackupTarget }> = [];
    try {
      const credentials = await options.auth.getOwnServiceCredentials();
      const { items } = await options.catalog.getEntities(
        {
          filter: {
            [`metadata.annotations.${KUBERNETES_NAMESPACE_ANNOTATION}`]: CATALOG_FILTER_EXISTS,
          },
          fields: ['kind', 'metadata.namespace', 'metadata.name', 'metadata.annotations'],
        },
        { credentials },
      );
      entries = items
        .flatMap((e) => {
          const t = entityTarget(e);
          return t.configured ? [{ ref: stringifyEntityRef(e), target: t.target }] : [];
        })
        .sort((a, b) => a.ref.localeCompare(b.ref));
    } catch (err) {
      options.logger.warn(
        `metrics: cannot read the catalog for entity labels: ${(err as Error).message}`,
      );
    }
    const lookup: EntityOf = (namespace, cluster) =>
      entries.find((e) => targetMatches(e.target, namespace, cluster))?.ref ?? '';
    cached = { at: Date.now(), lookup };
    return lookup;
  };
}
