/**
 * The cache key of a caller: its whole principal (user entity ref and the service acting for it,
 * or service subject and access restrictions, or none). Cached catalog answers and permission
 * decisions are keyed by it, so that no caller is ever answered with another caller's result.
 */
import type { BackstageCredentials } from '@backstage/backend-plugin-api';

export function principalKey(credentials: BackstageCredentials): string {
  return JSON.stringify(credentials.principal ?? null);
}
