export * from './types.js';
export {
  BackupConfigError,
  isCron,
  normalizeEntityRef,
  readBackupConfig,
} from './readBackupConfig.js';
export { readDurationMs } from './duration.js';
