/**
 * Permissions of the backup plugins, named `backup.<resource>.<action>`.
 *
 * All are resource permissions on catalog entities: a policy can allow backups of the entities a
 * user owns (the catalog's `IS_ENTITY_OWNER` rule and friends apply, since the catalog evaluates
 * conditions on its own resource type). The backend checks them on every route with the entity
 * that the backup, restore or audit entry maps to.
 */
import { createPermission } from '@backstage/plugin-permission-common';

/** The catalog's resource type (`RESOURCE_TYPE_CATALOG_ENTITY` of @backstage/plugin-catalog-common). */
export const CATALOG_ENTITY_RESOURCE_TYPE = 'catalog-entity';

/** See an entity's backup status, backups, restores and verifications. */
export const backupReadPermission = createPermission({
  name: 'backup.backup.read',
  attributes: { action: 'read' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

/** Start a backup or a verification (with restore test) of an entity's namespace. */
export const backupCreatePermission = createPermission({
  name: 'backup.backup.create',
  attributes: { action: 'create' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

/** Restore a backup of an entity's namespace (also needed for a dry run). */
export const restoreCreatePermission = createPermission({
  name: 'backup.restore.create',
  attributes: { action: 'create' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

/** Read the repositories' audit trail for an entity's namespace. */
export const auditReadPermission = createPermission({
  name: 'backup.audit.read',
  attributes: { action: 'read' },
  resourceType: CATALOG_ENTITY_RESOURCE_TYPE,
});

/** Every permission of the plugin (for `permissionsRegistry.addPermissions`). */
export const backupPermissions = [
  backupReadPermission,
  backupCreatePermission,
  restoreCreatePermission,
  auditReadPermission,
];
