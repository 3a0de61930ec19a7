/** Test helpers for storages: `@kubectl-backup/engine/testing`. Needs vitest (and s3rver for startS3rver). */
export { describeStorageConformance, listAll, mapConcurrent, readAll } from './conformance.js';
export type { ConformanceOptions, ConformanceSubject } from './conformance.js';
export { startS3rver } from './s3rver.js';
export type { S3rverHandle, StartS3rverOptions } from './s3rver.js';
export { FaultyStorage, InjectedFault } from './faulty.js';
export type { FaultyCounts, FaultyStorageOptions } from './faulty.js';
export * from './repo-fixtures.js';
