/**
 * @kubectl-backup/plugin-backup-backend: the Backstage backend plugin of kubectl-backup.
 * `backend.add(import('@kubectl-backup/plugin-backup-backend'))`.
 */
export { backupPlugin as default, INGEST_TASK_ID } from './plugin.js';
export { readBackupConfig, BackupConfigError, type BackupConfig } from './config/index.js';
