/**
 * Large objects of the directory backend (packs) are written with direct I/O (util/direct-io.ts):
 * a pack is written once and read back only by a later restore, check or prune, so passing it
 * through the page cache costs memory the kernel must find, zero, write back and reclaim (on a VM,
 * memory that may first have to come back from the host; in a container, memory charged to its
 * limit) and CPU that a backup needs for its own work. The bytes are copied piece by piece into an
 * aligned buffer and written in whole blocks; the last piece is padded with zeros, and the file is
 * then truncated to the object's size. Where the file system refuses direct I/O, nothing is left
 * behind and the object is written through the page cache, from then on every time.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import {
  alignedBuffer,
  DIRECT_ALIGN,
  O_DIRECT,
  roundUp,
  writableInPlace,
} from '../util/direct-io.js';

/** Objects smaller than this go through the page cache (one write, no padding). */
export const DIRECT_PUT_MIN = 1 << 20;
/** Bytes copied and written per direct write. */
const PIECE = 2 << 20;
/** Aligned buffers kept for the next writes. */
const KEEP_BUFFERS = 2;
const CREATE_DIRECT = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_DIRECT;

/** The file system (or the platform) refused direct I/O; nothing was written. */
export class DirectRefused extends Error {}

type Opener = (path: string, flags: number, mode: number) => Promise<FileHandle>;

export class DirectPut {
  private refused = O_DIRECT === 0;
  private readonly free: Buffer[] = [];

  /** `openFile`: how files are created (tests refuse direct I/O with it). */
  constructor(private readonly openFile: Opener = open) {}

  /** Whether an object of this size is written with direct I/O. */
  wants(size: number): boolean {
    return !this.refused && size >= DIRECT_PUT_MIN;
  }

  /**
   * Creates `path` (which must not exist) and writes `data` into it with direct I/O; the caller
   * syncs and closes the returned handle. Throws DirectRefused, with the file removed, where
   * direct I/O is refused. Data that lies in aligned memory with room after it (util/direct-io.ts
   * `writableInPlace`: a worker's pack buffer) is written where it lies, without a copy; the
   * padding after it in its buffer is overwritten with zeros.
   */
  async create(path: string, data: Uint8Array, mode: number): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await this.openFile(path, CREATE_DIRECT, mode);
    } catch (err) {
      throw this.refusal(err);
    }
    const inPlace = writableInPlace(data);
    const buf = inPlace ? undefined : (this.free.pop() ?? alignedBuffer(PIECE));
    try {
      if (inPlace) {
        // Padded with zeros in the buffer's room after the data (the caller's spare bytes).
        const whole = Buffer.from(data.buffer, data.byteOffset, roundUp(data.length));
        whole.fill(0, data.length);
        await writeAll(fh, whole, 0);
      } else {
        if (!buf) throw new DirectRefused('no aligned memory (no WebAssembly, or none left)');
        for (let at = 0; at < data.length; at += PIECE) {
          const n = Math.min(PIECE, data.length - at);
          buf.set(data.subarray(at, at + n));
          const padded = roundUp(n);
          buf.fill(0, n, padded);
          await writeAll(fh, buf.subarray(0, padded), at);
        }
      }
      if (data.length % DIRECT_ALIGN) await fh.truncate(data.length);
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw this.refusal(err);
    } finally {
      if (buf && this.free.length < KEEP_BUFFERS) this.free.push(buf);
    }
  }

  /** EINVAL (direct I/O refused) becomes DirectRefused and turns direct I/O off; others stay. */
  private refusal(err: unknown): unknown {
    const code = (err as { code?: unknown }).code;
    if (!(err instanceof DirectRefused) && code !== 'EINVAL') return err;
    this.refused = true;
    return err instanceof DirectRefused ? err : new DirectRefused('direct I/O refused');
  }
}

/** Writes all of `buf` at `position` (a direct write may come back short). */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    if (bytesWritten <= 0) throw new DirectRefused('a direct write wrote nothing');
    done += bytesWritten;
  }
}
