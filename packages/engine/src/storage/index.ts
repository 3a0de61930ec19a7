/** The storage layer: the contract, its backends, wrappers and repository URLs. */
export type { ByteRange, ObjectInfo, Storage, ThreadWrites } from './types.js';
export { assertValidKey, sliceRange } from './keys.js';
export { MemoryStorage } from './memory.js';
export { LocalStorage } from './local.js';
export { S3Storage } from './s3.js';
export type { S3Credentials, S3StorageOptions } from './s3.js';
export { RetryingStorage, isPermanent, withRetry } from './retry.js';
export type { RetryEvent, RetryOptions } from './retry.js';
export { ReadOnlyStorage, readOnly } from './readonly.js';
export { describeLocation, openStorage, parseStorageUrl, resetMemoryStorages } from './url.js';
export type { OpenStorageOptions, StorageUrl } from './url.js';
