/**
 * Concurrent entity lookups of one caller, asked of the catalog together: the lookups started in
 * one turn of the event loop (e.g. the first requests for many entities, arriving at once) become
 * one `getEntitiesByRefs` call per caller instead of one `getEntityByRef` each. Callers are never
 * mixed: a batch holds the lookups of one principal and is asked with that caller's credentials.
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { TurnBatches } from '../Batching/turnBatches.js';
import { principalKey } from './principalKey.js';

export type EntityLookups = Pick<CatalogService, 'getEntityByRef' | 'getEntitiesByRefs'>;

/** Refs asked for in one call at most. */
const MAX_BATCH = 100;

interface Lookup {
  ref: string;
  credentials: BackstageCredentials;
}

/** The ref in the catalog's form, or undefined when it is not a complete entity ref. */
function normalized(ref: string): string | undefined {
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch {
    return undefined;
  }
}

export function batchedLookups(catalog: EntityLookups): {
  /** The entity of `ref`, asked with `credentials`. */
  lookup(ref: string, credentials: BackstageCredentials): Promise<Entity | undefined>;
} {
  // A batch is asked with the credentials of its first lookup: all of it has the same principal.
  const batches = new TurnBatches<Lookup, Entity | undefined>({
    maxItems: MAX_BATCH,
    async run(batch) {
      const { items } = await catalog.getEntitiesByRefs(
        { entityRefs: batch.map((w) => w.item.ref) },
        { credentials: batch[0]!.item.credentials },
      );
      batch.forEach((w, i) => w.resolve(items[i] ?? undefined));
    },
  });
  return {
    lookup(ref, credentials) {
      const entityRef = normalized(ref);
      // Not a full ref: the catalog's own answer (an error) for this lookup alone.
      if (entityRef === undefined) return catalog.getEntityByRef(ref, { credentials });
      // Keyed by the principal the credentials belong to, so callers are never mixed.
      return batches.add(principalKey(credentials), { ref: entityRef, credentials });
    },
  };
}
