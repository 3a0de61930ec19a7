import {
  closeSync,
  constants,
  openSync,
  readFileSync,
  statSync,
  write as fsWrite,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytesSeeded, tempDirs } from '../testing/repo-fixtures.js';
import { O_DIRECT } from '../util/direct-io.js';
import { FileWrites } from './file-writes.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const MiB = 1 << 20;

/** Whether this directory's file system accepts direct I/O (most do on Linux; not every one). */
function acceptsDirect(dir: string): boolean {
  if (!O_DIRECT) return false;
  const probe = join(dir, 'probe');
  writeFileSync(probe, '');
  try {
    closeSync(openSync(probe, constants.O_WRONLY | O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes `data` into a new file in pieces (given as [start, end) and split into several parts
 * each), in the order given, and completes the file.
 */
async function writePieces(
  writes: FileWrites,
  data: Buffer,
  pieces: Array<[number, number]>,
  direct = true,
): Promise<string> {
  const path = join(await dirs.make(), 'target');
  writeFileSync(path, '');
  writes.setFiles([{ path, mode: 0o640, mtime: 1_600_000_000_000, finish: true }], 8, direct);
  for (const [start, end] of pieces) {
    const mid = start + Math.floor((end - start) / 3);
    const parts = [data.subarray(start, mid), data.subarray(mid, end)];
    await writes.write(0, parts, start, -1);
  }
  // Closed with writes in flight: the last to complete sets mode and times and closes it.
  writes.close(0, true);
  await writes.settle();
  return path;
}

// Unaligned pieces: a small head, a piece whose middle just reaches the direct minimum, a piece
// larger than the staging buffer, written out of order (holes are filled later).
const data = randomBytesSeeded(3 * MiB + 12_345, 7);
const pieces: Array<[number, number]> = [
  [2 * MiB + 999, data.length],
  [0, 100],
  [100, 100 + 4096 + 65_536 + 1],
  [100 + 4096 + 65_536 + 1, 2 * MiB + 999],
];

describe('FileWrites', () => {
  it('puts every byte where it belongs, the whole blocks of large writes with direct I/O', async () => {
    const writes = new FileWrites();
    const path = await writePieces(writes, data, pieces);
    expect(readFileSync(path).equals(data)).toBe(true);
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.mtimeMs).toBe(1_600_000_000_000);
    if (acceptsDirect(join(path, '..'))) {
      // Everything but the unaligned edges of each piece (at most 2 blocks per piece).
      expect(writes.directBytes).toBeGreaterThan(data.length - pieces.length * 2 * 4096);
      expect(writes.directBytes % 4096).toBe(0);
    } else expect(writes.directBytes).toBe(0);
  });

  it('writes through the page cache where direct I/O is refused, or not asked for', async () => {
    const opened: number[] = [];
    const refusing = new FileWrites((path, flags) => {
      opened.push(flags);
      if (O_DIRECT && flags & O_DIRECT)
        throw Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
      return openSync(path, flags);
    });
    const path = await writePieces(refusing, data, pieces);
    expect(readFileSync(path).equals(data)).toBe(true);
    expect(refusing.directBytes).toBe(0);
    // Refused once, never tried again.
    expect(opened.filter((f) => O_DIRECT && f & O_DIRECT).length).toBeLessThanOrEqual(1);

    const cachedOnly = new FileWrites();
    const path2 = await writePieces(cachedOnly, data, pieces, false);
    expect(readFileSync(path2).equals(data)).toBe(true);
    expect(cachedOnly.directBytes).toBe(0);
  });

  it('reports any other failure to open as an I/O error naming the file, and keeps working', async () => {
    const writes = new FileWrites();
    const dir = await dirs.make();
    const [missing, present] = [join(dir, 'gone'), join(dir, 'here')];
    writeFileSync(present, '');
    writes.setFiles(
      [missing, missing, missing, present].map((path) => ({
        path,
        mode: 0o600,
        mtime: 0,
        finish: false,
      })),
      8,
      true,
    );
    // More failures than there are aligned buffers: none of them may keep one.
    for (const file of [0, 1, 2])
      await expect(writes.write(file, [data.subarray(0, MiB)], 0, -1)).rejects.toThrow(
        /cannot open .*gone/,
      );
    await writes.write(3, [data.subarray(0, 2 * MiB)], 0, -1);
    writes.close(3, false);
    await writes.settle();
    expect(readFileSync(present).equals(data.subarray(0, 2 * MiB))).toBe(true);
  });

  it('copies what it writes directly: the caller may reuse its buffers at once', async () => {
    const writes = new FileWrites();
    const path = join(await dirs.make(), 'target');
    writeFileSync(path, '');
    writes.setFiles([{ path, mode: 0o600, mtime: 0, finish: false }], 8, true);
    const scratch = Buffer.from(data.subarray(0, 3 * MiB));
    await writes.write(0, [scratch], 0, -1);
    scratch.fill(0);
    writes.close(0, false);
    await writes.settle();
    expect(readFileSync(path).equals(data.subarray(0, 3 * MiB))).toBe(true);
  });

  /** A FileWrites whose direct writes complete through `complete` (instead of the device). */
  const scripted = (
    complete: (length: number) => { err?: NodeJS.ErrnoException; written?: number },
  ) =>
    new FileWrites(openSync, (fd, buf, length, position, done) => {
      const { err, written } = complete(length);
      if (err) return setImmediate(() => done(err, 0));
      // Writes only part, for real; the rest is the writer's to handle.
      const n = written ?? length;
      fsWrite(fd, buf, 0, n, position, (e, w) => done(e, w));
    });

  it('writes the rest through the page cache when a direct write is refused or comes back short', async () => {
    const einval = Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });
    const refused = scripted(() => ({ err: einval }));
    expect(readFileSync(await writePieces(refused, data, pieces)).equals(data)).toBe(true);
    expect(refused.directBytes).toBe(0);

    const short = scripted((length) => ({ written: Math.min(length, 8192) }));
    expect(readFileSync(await writePieces(short, data, pieces)).equals(data)).toBe(true);
    if (O_DIRECT) expect(short.directBytes).toBeGreaterThan(0);
  });

  it('reports a failed direct write as an I/O error naming the file, and loses track of nothing', async () => {
    const eio = Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    const failing = scripted(() => ({ err: eio }));
    const path = join(await dirs.make(), 'target');
    writeFileSync(path, '');
    failing.setFiles([{ path, mode: 0o600, mtime: 0, finish: true }], 8, true);
    await failing.write(0, [data.subarray(0, 2 * MiB)], 0, -1);
    if (!O_DIRECT) return;
    await expect(failing.settle()).rejects.toThrow(/cannot write .*target: EIO/);
    failing.closeAll();
    // The next restore's writes are not refused for the old failure.
    await failing.settle();
  });
});
