// Public API of @kubectl-backup/k8s: namespace backup, restore, listing and diffs as a library.
// Nothing here prints; progress is an event callback and results are returned.
export * from './errors.js';
export * from './types.js';
export { KubeClient, resourcePath, FIELD_MANAGER, type KubeClientOptions, type RequestOptions, type ResourceLocation } from './client.js';
export * from './context.js';
export { toClient, type ClusterTarget } from './connection.js';
export * from './discovery.js';
export { captureNamespace, imagesOf, type CaptureOptions, type CaptureResult, type CapturedObject, type ImageRecord, type SkippedObject } from './capture.js';
export {
  TAG_PREFIX,
  KIND_NAMESPACE_BACKUP,
  KIND_RESTORE_RECORD,
  KIND_VERIFY_RECORD,
  MANIFEST_DOC,
  LOG_DOC,
  RESTORE_DOC,
  VERIFY_DOC,
  RESOURCES_PREFIX,
  VOLUMES_PREFIX,
  tag,
  tagValue,
  resourceDocName,
  volumeItemName,
  parseResourceDocName,
  defaultBackupName,
  isValidRecordName,
  type RecordKind,
} from './layout.js';
export * from './log.js';
export * from './manifest.js';
export type { VolumeMode, VolumeBackups } from './integration.js';
export { setIntegrationModules, type VolumesModule, type HooksModule } from './integration.js';
export { backupNamespace, type BackupNamespaceOptions, type BackupNamespaceResult } from './backup.js';
export * from './restore/index.js';
export { findBackup, listBackupSnapshots, readManifest, readLog, readBackupObjects, writeRecord, listRecords, type BackupHandle, type StoredObject, type WriteRecordOptions } from './records.js';
export * from './volumes/index.js';
export * from './hooks.js';
export * from './exec.js';
export { listBackups, latestVerifications, type BackupSummary, type ListBackupsOptions, type VerificationSummary } from './list.js';
export { describeBackup, backupObjects, listBackupObjects, type BackupDescription, type KindSummary } from './describe.js';
export { diffBackups, diffBackupWithCluster, type NamespaceDiff, type ObjectDiff, type ObjectChange } from './diff.js';
export { verifyBackup, type VerifyBackupOptions, type VerifyCheck, type VerifyResult } from './verify.js';
export * from './schedule.js';
