/**
 * The access checks' caches: catalog answers and permission decisions are reused within the ttl
 * for the same caller only, never across callers; failures are not kept; ttl 0 turns them off.
 */
import type { PermissionsService } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult, type PolicyDecision } from '@backstage/plugin-permission-common';
import { backupReadPermission } from '@kubectl-backup/plugin-backup-common';
import { describe, expect, it } from 'vitest';
import { createAccessService } from './createAccessService.js';
import type { AccessCatalog } from './cachedCatalog.js';

const ALICE = 'user:default/alice';
const BOB = 'user:default/bob';
const SHOP = 'component:default/shop';
const shop: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-namespace': 'shop' },
  },
};

const CART = 'component:default/cart';
const cart: Entity = {
  ...shop,
  metadata: {
    ...shop.metadata,
    name: 'cart',
    annotations: { 'backstage.io/kubernetes-namespace': 'cart' },
  },
};

const userOf = (principal: unknown) => (principal as { userEntityRef?: string }).userEntityRef;

/** A catalog with `shop`, a policy by user (`allowed`), call counters and a hand-moved clock. */
function setup(ttlMs: number, allowed: Set<string>) {
  let clock = 0;
  const calls = { entity: 0, list: 0, authorize: 0, conditional: 0 };
  let failNextLookup = false;
  let failNextDecision = false;
  const lookups: string[][] = [];
  const catalog: AccessCatalog = {
    async getEntityByRef(ref) {
      return ref === SHOP ? shop : undefined;
    },
    async getEntitiesByRefs({ entityRefs }, o) {
      calls.entity++;
      lookups.push([userOf(o?.credentials.principal) ?? '', ...entityRefs]);
      if (failNextLookup) {
        failNextLookup = false;
        throw new Error('catalog unavailable');
      }
      return { items: entityRefs.map((ref) => (ref === SHOP ? shop : ref === CART ? cart : null)) };
    },
    async getEntities() {
      calls.list++;
      return { items: [shop] };
    },
  };
  const permissions: PermissionsService = {
    async authorize(requests, { credentials }) {
      calls.authorize++;
      if (failNextDecision) {
        failNextDecision = false;
        throw new Error('permission backend unavailable');
      }
      const result = allowed.has(userOf(credentials.principal) ?? '')
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY;
      return requests.map(() => ({ result }));
    },
    async authorizeConditional(requests, { credentials }) {
      calls.conditional++;
      const result = allowed.has(userOf(credentials.principal) ?? '')
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY;
      return requests.map((): PolicyDecision => ({ result }));
    },
  };
  const access = createAccessService({ permissions, catalog, cache: { ttlMs, now: () => clock } });
  const read = (user: string) =>
    access.requireEntity(mockCredentials.user(user), backupReadPermission, SHOP);
  return {
    access,
    read,
    calls,
    lookups,
    failNextLookup: () => {
      failNextLookup = true;
    },
    failNextDecision: () => {
      failNextDecision = true;
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('access checks: caches', () => {
  it('reuses the entity and the decision of the same caller within the ttl', async () => {
    const t = setup(5_000, new Set([ALICE]));
    expect(await t.read(ALICE)).toBe(shop);
    expect(await t.read(ALICE)).toBe(shop);
    expect(t.calls).toMatchObject({ entity: 1, authorize: 1 });
    t.advance(5_000);
    await t.read(ALICE);
    expect(t.calls).toMatchObject({ entity: 2, authorize: 2 });
  });

  it('never gives one user a decision made for another', async () => {
    const t = setup(60_000, new Set([ALICE]));
    expect(await t.read(ALICE)).toBe(shop);
    await expect(t.read(BOB)).rejects.toBeInstanceOf(NotAllowedError);
    // Both decisions are cached now; each user still gets its own.
    expect(await t.read(ALICE)).toBe(shop);
    await expect(t.read(BOB)).rejects.toBeInstanceOf(NotAllowedError);
    expect(t.calls.authorize).toBe(2);
    // The other way round: a denial cached first does not deny the next user.
    const u = setup(60_000, new Set([BOB]));
    await expect(u.read(ALICE)).rejects.toBeInstanceOf(NotAllowedError);
    expect(await u.read(BOB)).toBe(shop);
    // Lists: an unconditional allow for one user is not another's.
    const list = (user: string) =>
      u.access.visibleTargets(mockCredentials.user(user), backupReadPermission);
    expect(await list(BOB)).toBeUndefined();
    await expect(list(ALICE)).rejects.toBeInstanceOf(NotAllowedError);
    expect(u.calls.conditional).toBe(2);
  });

  it('takes a revoked permission into account after the ttl', async () => {
    const allowed = new Set([ALICE]);
    const t = setup(5_000, allowed);
    await t.read(ALICE);
    allowed.delete(ALICE);
    expect(await t.read(ALICE)).toBe(shop);
    t.advance(5_000);
    await expect(t.read(ALICE)).rejects.toBeInstanceOf(NotAllowedError);
  });

  it('does not keep a failed catalog lookup', async () => {
    const t = setup(60_000, new Set([ALICE]));
    t.failNextLookup();
    await expect(t.read(ALICE)).rejects.toThrow('catalog unavailable');
    expect(await t.read(ALICE)).toBe(shop);
    expect(t.calls.entity).toBe(2);
  });

  it('does not keep a failed permission call', async () => {
    const t = setup(60_000, new Set([ALICE]));
    t.failNextDecision();
    await expect(t.read(ALICE)).rejects.toThrow('permission backend unavailable');
    expect(await t.read(ALICE)).toBe(shop);
    expect(t.calls.authorize).toBe(2);
  });

  it('asks the catalog once for the entities a caller looks up together, never mixing callers', async () => {
    for (const ttl of [5_000, 0]) {
      const t = setup(ttl, new Set([ALICE, BOB]));
      const get = (user: string, ref: string) =>
        t.access.requireEntity(mockCredentials.user(user), backupReadPermission, ref);
      const [a1, a2, b1] = await Promise.all([
        get(ALICE, SHOP),
        get(ALICE, CART),
        get(BOB, CART),
        expect(get(ALICE, 'component:default/gone')).rejects.toBeInstanceOf(NotFoundError),
      ]);
      expect([a1, a2, b1]).toEqual([shop, cart, cart]);
      expect(t.lookups).toEqual([
        [ALICE, SHOP, CART, 'component:default/gone'],
        [BOB, CART],
      ]);
      // A failed batch fails each of its lookups, and none is kept.
      t.failNextLookup();
      const failed = await Promise.allSettled([
        get(ALICE, 'component:default/x'),
        get(ALICE, 'component:default/y'),
      ]);
      expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
      expect(t.calls.entity).toBe(3);
    }
  });

  it('asks every time with ttl 0', async () => {
    const t = setup(0, new Set([ALICE]));
    await t.read(ALICE);
    await t.read(ALICE);
    expect(t.calls).toMatchObject({ entity: 2, authorize: 2 });
  });
});
