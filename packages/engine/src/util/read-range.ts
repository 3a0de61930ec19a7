/** Synchronous reads of a byte range of a file (pack files of a directory repository). */
import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Reads `length` bytes of the file at `path` from `position` into `into` (from its start);
 * returns the bytes read, fewer only where the file ends. File system errors are thrown.
 */
export function readRangeInto(
  path: string,
  position: number,
  length: number,
  into: Buffer,
): number {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < length) {
      const n = readSync(fd, into, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  } finally {
    closeSync(fd);
  }
}
