import { isResourcePermission } from '@backstage/plugin-permission-common';
import { describe, expect, it } from 'vitest';
import { backupPermissions, CATALOG_ENTITY_RESOURCE_TYPE } from './index.js';

describe('backup permissions', () => {
  it('are named backup.<resource>.<action>, unique, and scoped to catalog entities', () => {
    const names = backupPermissions.map((p) => p.name);
    expect(names).toEqual([
      'backup.backup.read',
      'backup.backup.create',
      'backup.restore.create',
      'backup.audit.read',
    ]);
    for (const p of backupPermissions) {
      expect(isResourcePermission(p, CATALOG_ENTITY_RESOURCE_TYPE)).toBe(true);
      expect(p.name.split('.').at(-1)).toBe(p.attributes.action);
    }
  });
});
