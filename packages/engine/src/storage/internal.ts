/** Helpers shared by the storage backends and wrappers; not part of the public API. */
import { EngineError, NotFoundError } from '../errors.js';
import { assertValidKey } from './keys.js';
import type { ByteRange } from './types.js';

const SEGMENT = /^[A-Za-z0-9._-]+$/;
const PARTIAL_SEGMENT = /^[A-Za-z0-9._-]*$/;

/** True if `key` is a valid storage key (see ./keys.ts); never throws. */
export function isValidKey(key: string): boolean {
  return (
    key.length > 0 && key.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')
  );
}

/**
 * Throws unless `prefix` is a usable list prefix: empty, or whole key segments followed by an
 * optional partial segment (`data/`, `data/3f`, `snap`).
 */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop() ?? '';
  const ok =
    segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..') &&
    PARTIAL_SEGMENT.test(last);
  if (!ok) throw new EngineError('EKEY', `invalid storage prefix: ${JSON.stringify(prefix)}`);
}

/** Validates a key and an optional range before any I/O. */
export function assertValidRequest(key: string, range?: ByteRange): void {
  assertValidKey(key);
  if (range) {
    const { offset, length } = range;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new EngineError('ERANGE', `invalid range ${offset}+${length} for ${key}`);
    }
  }
}

/** The error for a range that does not fit in an object (same wording as `sliceRange`). */
export function rangeError(key: string, range: ByteRange, size: number | undefined): EngineError {
  const known = size === undefined ? 'shorter' : `${size} bytes`;
  return new EngineError(
    'ERANGE',
    `range ${range.offset}+${range.length} is outside ${key} (${known})`,
  );
}

/** Short text of an unknown thrown value, for messages (no stack). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const msg = err.message || err.name;
    return typeof code === 'string' && !msg.includes(code) ? `${code}: ${msg}` : msg;
  }
  return String(err);
}

/** `exists` in terms of `stat`: a NotFoundError means false, any other error propagates. */
export async function existsByStat(stat: () => Promise<unknown>): Promise<boolean> {
  try {
    await stat();
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
