export * from './types.js';
export {
  BackupConfigError,
  cronProblem,
  normalizeEntityRef,
  readBackupConfig,
} from './readBackupConfig.js';
export { readDurationMs } from './duration.js';
