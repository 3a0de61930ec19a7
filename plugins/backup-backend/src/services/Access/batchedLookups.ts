/**
 * Concurrent entity lookups of one caller, asked of the catalog together: the lookups started in
 * one turn of the event loop (e.g. the first requests for many entities, arriving at once) become
 * one `getEntitiesByRefs` call per caller instead of one `getEntityByRef` each. Callers are never
 * mixed: a batch holds the lookups of one principal and is asked with that caller's credentials.
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { principalKey } from './principalKey.js';

export type EntityLookups = Pick<CatalogService, 'getEntityByRef' | 'getEntitiesByRefs'>;

/** Refs asked for in one call at most. */
const MAX_BATCH = 100;

interface Batch {
  credentials: BackstageCredentials;
  refs: string[];
  waiting: Array<{ resolve: (e: Entity | undefined) => void; reject: (err: unknown) => void }>;
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
  lookup(ref: string, credentials: BackstageCredentials): Promise<Entity | undefined>;
} {
  const open = new Map<string, Batch>();

  async function run(batch: Batch): Promise<void> {
    try {
      const { items } = await catalog.getEntitiesByRefs(
        { entityRefs: batch.refs },
        { credentials: batch.credentials },
      );
      batch.waiting.forEach((w, i) => w.resolve(items[i] ?? undefined));
    } catch (err) {
      batch.waiting.forEach((w) => w.reject(err));
    }
  }

  return {
    lookup(ref, credentials) {
      const entityRef = normalized(ref);
      // Not a full ref: the catalog's own answer (an error) for this lookup alone.
      if (entityRef === undefined) return catalog.getEntityByRef(ref, { credentials });
      const principal = principalKey(credentials);
      let batch = open.get(principal);
      if (!batch) {
        const created: Batch = { credentials, refs: [], waiting: [] };
        open.set(principal, created);
        setImmediate(() => {
          if (open.get(principal) === created) open.delete(principal);
          void run(created);
        });
        batch = created;
      }
      const b = batch;
      if (b.refs.length + 1 >= MAX_BATCH) open.delete(principal);
      return new Promise((resolve, reject) => {
        b.refs.push(entityRef);
        b.waiting.push({ resolve, reject });
      });
    },
  };
}
