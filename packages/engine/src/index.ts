// Public API of @kubectl-backup/engine. See docs/format.md for the repository format.
export * from './errors.js';
export * from './types.js';
export * from './storage/index.js';
export { Repository, type InitOptions, type OpenOptions } from './repository.js';
export type { KeyInfo } from './keys.js';
export type { RepoContext } from './context.js';
export { DEFAULT_CHUNKER } from './chunker.js';
export {
  backup,
  startBackupScan,
  type BackupOptions,
  type BackupScan,
  type BackupSource,
  type NamedDocument,
  type NamedStream,
} from './backup.js';
export {
  restoreDirectory,
  restoreItemStream,
  readItem,
  readDocuments,
  listItems,
  type RestoreOptions,
  type RestoreResult,
} from './restore.js';
export {
  listSnapshots,
  findSnapshot,
  loadSnapshot,
  shortId,
  type SnapshotFilter,
} from './snapshots.js';
export type { SaverOptions } from './pipeline/blob-saver.js';
export * from './lock.js';
export { PROGRAM, VERSION } from './version.js';
export * from './audit.js';
export * from './forget-policy.js';
export { check, parseSubset, type CheckOptions, type CheckReport } from './check.js';
export { forget, deleteSnapshots, type ForgetOptions } from './forget.js';
export { prune, type PruneOptions, type PruneReport } from './prune.js';
export { copySnapshots, type CopyOptions, type CopyReport } from './copy.js';
export { diffSnapshots, type DiffEntry, type DiffReport, type ChangeKind } from './diff.js';
export { collectReferences } from './references.js';
