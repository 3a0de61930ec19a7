/**
 * A test backend: the plugin with a given config and database, an in-memory catalog, and a
 * permission policy by user (admin: everything; reader: only component:default/shop; others:
 * nothing). Requests without credentials are unauthenticated (401).
 */
import {
  coreServices,
  createServiceFactory,
  type PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  type TestBackend,
} from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult, type PolicyDecision } from '@backstage/plugin-permission-common';
import type { BackendFeature } from '@backstage/backend-plugin-api';
import type { Knex } from 'knex';
import backupPlugin from '../index.js';

export const ADMIN = 'user:default/admin';
export const READER = 'user:default/reader';
export const OUTSIDER = 'user:default/outsider';
/** What READER may see. */
export const READER_ENTITY = 'component:default/shop';

export const auth = (user: string) => ({ Authorization: mockCredentials.user.header(user) });

export function component(name: string, annotations: Record<string, string> = {}): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: { name, namespace: 'default', annotations },
    spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
  };
}

function userOf(credentials: { principal: unknown }): string | undefined {
  const p = credentials.principal as { type: string; userEntityRef?: string };
  return p.type === 'user' ? p.userEntityRef : undefined;
}

/** The policy above, as a PermissionsService. Records every request for assertions. */
export function policyPermissions(
  log: Array<{ user?: string; permission: string; resourceRef?: string }> = [],
): PermissionsService {
  const decide = (user: string | undefined, resourceRef: string | undefined): AuthorizeResult =>
    user === ADMIN
      ? AuthorizeResult.ALLOW
      : user === READER && resourceRef === READER_ENTITY
        ? AuthorizeResult.ALLOW
        : AuthorizeResult.DENY;
  return {
    async authorize(requests, { credentials }) {
      const user = userOf(credentials);
      return requests.map((r) => {
        log.push({
          user,
          permission: r.permission.name,
          ...(r.resourceRef ? { resourceRef: r.resourceRef } : {}),
        });
        return {
          result: decide(user, r.resourceRef) as AuthorizeResult.ALLOW | AuthorizeResult.DENY,
        };
      });
    },
    async authorizeConditional(requests, { credentials }) {
      const user = userOf(credentials);
      return requests.map((r): PolicyDecision => {
        log.push({ user, permission: r.permission.name });
        if (user === ADMIN) return { result: AuthorizeResult.ALLOW };
        if (user === READER) {
          return {
            result: AuthorizeResult.CONDITIONAL,
            pluginId: 'catalog',
            resourceType: 'catalog-entity',
            conditions: {
              rule: 'IS_ENTITY_OWNER',
              resourceType: 'catalog-entity',
              params: { claims: [READER] },
            },
          };
        }
        return { result: AuthorizeResult.DENY };
      });
    },
  };
}

export interface RecordedAuditEvent {
  eventId: string;
  severityLevel?: string;
  meta?: Record<string, unknown>;
  status: 'initiated' | 'succeeded' | 'failed';
  error?: string;
}

/** An auditor that keeps its events (`coreServices.auditor`). */
export function recordingAuditor(events: RecordedAuditEvent[]): BackendFeature {
  return createServiceFactory({
    service: coreServices.auditor,
    deps: {},
    factory: () => ({
      async createEvent(options) {
        const ev: RecordedAuditEvent = {
          eventId: options.eventId,
          status: 'initiated',
          ...(options.severityLevel ? { severityLevel: options.severityLevel } : {}),
          ...(options.meta ? { meta: { ...options.meta } } : {}),
        };
        events.push(ev);
        return {
          async success(o) {
            Object.assign(ev, { status: 'succeeded', meta: { ...ev.meta, ...o?.meta } });
          },
          async fail(o) {
            Object.assign(ev, {
              status: 'failed',
              error: o.error.message,
              meta: { ...ev.meta, ...o.meta },
            });
          },
        };
      },
    }),
  });
}

export interface BackendOptions {
  config: Record<string, unknown>;
  knex: Knex;
  entities: Entity[];
  extraFeatures?: BackendFeature[];
}

export async function startBackend(options: BackendOptions): Promise<TestBackend> {
  const permissions = policyPermissions();
  return startTestBackend({
    features: [
      backupPlugin,
      mockServices.rootConfig.factory({ data: options.config }),
      mockServices.database.factory({ knex: options.knex }),
      mockServices.httpAuth.factory({ defaultCredentials: mockCredentials.none() }),
      catalogServiceMock.factory({ entities: options.entities }),
      createServiceFactory({
        service: coreServices.permissions,
        deps: {},
        factory: () => permissions,
      }),
      ...(options.extraFeatures ?? []),
    ],
  });
}
