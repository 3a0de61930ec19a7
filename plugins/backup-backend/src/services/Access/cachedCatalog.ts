/**
 * The catalog reads of the access checks, each answer kept for `ttlMs` per (caller, request):
 * the catalog filters what it returns by the caller's permissions, so answers are never shared
 * between callers. A failed read is not kept. Entity lookups a caller starts together are asked
 * in one call (batchedLookups.ts).
 */
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { GetEntitiesResponse } from '@backstage/catalog-client';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { TtlCache, type CacheOptions } from '../Cache/TtlCache.js';
import { batchedLookups } from './batchedLookups.js';
import { principalKey } from './principalKey.js';

/** What the access checks read from the catalog. */
export type AccessCatalog = Pick<
  CatalogService,
  'getEntityByRef' | 'getEntitiesByRefs' | 'getEntities'
>;

/** Entities and entity lists kept at most (lists can be large). */
const MAX_ENTITIES = 5_000;
const MAX_LISTS = 100;

/** JSON with symbols kept (filters use CATALOG_FILTER_EXISTS, which JSON.stringify would drop). */
const requestKey = (request: unknown): string =>
  JSON.stringify(request ?? null, (_, v: unknown) =>
    typeof v === 'symbol' ? `\u0000${String(v)}` : v,
  );

export function cachedCatalog(catalog: AccessCatalog, options: CacheOptions): AccessCatalog {
  const entities = new TtlCache<Entity | undefined>({ ...options, maxSize: MAX_ENTITIES });
  const lists = new TtlCache<GetEntitiesResponse>({ ...options, maxSize: MAX_LISTS });
  const lookups = batchedLookups(catalog);
  return {
    getEntitiesByRefs: (request, o) => catalog.getEntitiesByRefs(request, o),
    getEntityByRef(entityRef, o) {
      const ref = typeof entityRef === 'string' ? entityRef : stringifyEntityRef(entityRef);
      const principal = principalKey(o.credentials);
      return entities.get(
        () => `${principal}\u0000${ref}`,
        () => lookups.lookup(ref, o.credentials),
      );
    },
    getEntities(request, o) {
      return lists.get(
        () => `${principalKey(o.credentials)}\u0000${requestKey(request)}`,
        () => catalog.getEntities(request, o),
      );
    },
  };
}
