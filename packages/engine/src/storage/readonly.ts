/**
 * Read-only wrapper: reads pass through, `put` and `delete` throw `ReadOnlyError` without
 * touching the inner storage. Used for restores, checks and listings that must not change a
 * repository (or whose credentials only allow reading).
 */
import { ReadOnlyError } from '../errors.js';
import type { ByteRange, ObjectInfo, Storage } from './types.js';

export class ReadOnlyStorage implements Storage {
  readonly location: string;
  readonly localPath?: (key: string) => string;

  constructor(readonly inner: Storage) {
    this.location = inner.location;
    // Reading an object's file directly is reading too.
    if (inner.localPath) this.localPath = (key) => inner.localPath!(key);
  }

  get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.inner.get(key, range);
  }

  getStream(key: string): Promise<NodeJS.ReadableStream> {
    return this.inner.getStream(key);
  }

  async put(key: string, _data: Buffer | Uint8Array): Promise<void> {
    throw new ReadOnlyError(`put ${key}`);
  }

  stat(key: string): Promise<ObjectInfo> {
    return this.inner.stat(key);
  }

  exists(key: string): Promise<boolean> {
    return this.inner.exists(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    throw new ReadOnlyError(`delete ${key}`);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Wraps `storage` so writes are refused with `ReadOnlyError`. */
export function readOnly(storage: Storage): Storage {
  return storage instanceof ReadOnlyStorage ? storage : new ReadOnlyStorage(storage);
}
