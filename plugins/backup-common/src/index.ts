// Public API of @kubectl-backup/plugin-backup-common: permissions, REST API types and queries.
export * from './permissions.js';
export * from './types.js';
export * from './api.js';
export * from './operations.js';
