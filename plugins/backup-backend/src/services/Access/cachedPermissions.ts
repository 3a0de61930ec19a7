/**
 * A PermissionsService that keeps each decision for `ttlMs`, per (caller, permission, resource):
 * a batch asks the underlying service only for the decisions it does not have, in one call. A
 * revoked permission takes effect within `ttlMs`; a failed call is not kept.
 */
import type {
  PermissionsService,
  PermissionsServiceRequestOptions,
} from '@backstage/backend-plugin-api';
import type { Permission } from '@backstage/plugin-permission-common';
import { TtlCache, type CacheOptions } from '../Cache/TtlCache.js';
import { principalKey } from './principalKey.js';

/** Decisions kept at most, per kind (a restricted caller's list checks every entity). */
const MAX_DECISIONS = 20_000;

interface Pending<Q, R> {
  request: Q;
  resolve: (response: R) => void;
  reject: (err: unknown) => void;
}

/** `call` for the requests whose decision is not cached; every answer cached on its own. */
function batched<Q extends { permission: Permission; resourceRef?: string }, R>(
  options: CacheOptions,
  call: (requests: Q[], options: PermissionsServiceRequestOptions) => Promise<R[]>,
): (requests: Q[], options: PermissionsServiceRequestOptions) => Promise<R[]> {
  const cache = new TtlCache<R>({ ...options, maxSize: MAX_DECISIONS });
  return (requests, requestOptions) => {
    let principal: string | undefined;
    const misses: Array<Pending<Q, R>> = [];
    const answers = requests.map((request) =>
      cache.get(
        () =>
          `${(principal ??= principalKey(requestOptions.credentials))}\u0000${request.permission.name}\u0000${request.resourceRef ?? ''}`,
        () => new Promise<R>((resolve, reject) => misses.push({ request, resolve, reject })),
      ),
    );
    if (misses.length > 0) {
      Promise.resolve()
        .then(() =>
          call(
            misses.map((m) => m.request),
            requestOptions,
          ),
        )
        .then(
          (responses) =>
            misses.forEach((m, i) => {
              const response = responses[i];
              if (response === undefined)
                m.reject(new Error('the permission service gave no decision'));
              else m.resolve(response);
            }),
          (err: unknown) => misses.forEach((m) => m.reject(err)),
        );
    }
    return Promise.all(answers);
  };
}

export function cachedPermissions(
  permissions: PermissionsService,
  options: CacheOptions,
): PermissionsService {
  return {
    authorize: batched(options, (requests, o) => permissions.authorize(requests, o)),
    authorizeConditional: batched(options, (requests, o) =>
      permissions.authorizeConditional(requests, o),
    ),
  };
}
