/** Key validation and range helpers shared by the storage backends. */
import { EngineError } from '../errors.js';
import type { ByteRange } from './types.js';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Throws unless `key` is a relative `/`-separated path of safe segments (no `..`). */
export function assertValidKey(key: string): void {
  const segments = key.split('/');
  const ok = key.length > 0 && segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..');
  if (!ok) throw new EngineError('EKEY', `invalid storage key: ${JSON.stringify(key)}`);
}

/** Applies a byte range to a whole object, enforcing the contract's bounds. */
export function sliceRange(data: Buffer, key: string, range?: ByteRange): Buffer {
  if (!range) return data;
  const end = range.offset + range.length;
  if (range.offset < 0 || range.length < 0 || end > data.length) {
    throw new EngineError(
      'ERANGE',
      `range ${range.offset}+${range.length} is outside ${key} (${data.length} bytes)`,
    );
  }
  return data.subarray(range.offset, end);
}
