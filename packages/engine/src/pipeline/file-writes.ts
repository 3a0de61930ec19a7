/**
 * The writes of a restore worker into its target files. The main thread creates every file first
 * (restore-targets.ts); they are opened here without following symlinks.
 *
 * The whole pages of a large write go to the file with direct I/O (util/direct-io.ts), through a
 * second descriptor: copied into one of two aligned buffers and written on the thread pool, so the
 * worker decodes the next blobs while the device works. Only the unaligned edges, and small
 * writes, go through the page cache, with synchronous calls (cheaper than a trip through the
 * thread pool). A restore writes each byte once and never reads it back, so caching it only
 * costs: every page of cache taken is memory the kernel must find, zero and later write back and
 * reclaim (on a VM, memory that may first have to come back from the host), and in a container it
 * counts against the memory limit.
 * A direct write and a cached one never share a page (the direct part is cut at the kernel's page
 * size, which is more than 4 KiB on some kernels), so the kernel keeps both coherent. Where
 * direct I/O is refused (a file system without it), every write goes through the page cache.
 *
 * The cost: a restore ends when its data is on the device, where a cached one ends while the
 * kernel still holds it in memory to write back later. A restore small enough to fit in the page
 * cache of an otherwise idle machine therefore reads as faster cached (on the development VM,
 * with free memory already backed: 2.2 s cached against 2.5 s direct for 1 GiB); one larger than
 * the kernel's dirty limits, in a container with a memory limit, or on a VM whose free memory is
 * given back to the host, is faster direct (3.5 s against 2.5 s in the engine bench).
 */
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  openSync,
  write as fsWrite,
  writevSync,
} from 'node:fs';
import {
  alignedBuffer,
  alignedInterior,
  DIRECT_ALIGN,
  O_DIRECT,
  PAGE_SIZE,
  sliceParts,
} from '../util/direct-io.js';
import type { RestoreFile } from './protocol.js';

const WRITE_NOFOLLOW = constants.O_WRONLY | constants.O_NOFOLLOW;
/** Aligned bytes below which a write goes through the page cache whole. */
const DIRECT_MIN = 64 << 10;
/** Where direct parts are cut: whole pages, never shared with a cached write. */
const DIRECT_CUT = Math.max(DIRECT_ALIGN, PAGE_SIZE);
/** Size of the aligned buffers direct writes are copied into, and how many there are. */
const STAGING_BYTES = 1 << 20;
const STAGING_BUFFERS = 2;

/** An I/O failure while restoring (as opposed to an integrity failure). */
export class RestoreIoError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * The descriptors of one open file (-1 = not open), its direct writes in flight, and, once it
 * was closed with writes in flight, what its last write completes.
 */
interface Handles {
  cached: number;
  direct: number;
  pending: number;
  closing?: { file: number; finish: boolean };
}

type Opener = (path: string, flags: number) => number;
type Writer = (
  fd: number,
  buf: Buffer,
  length: number,
  position: number,
  done: (err: NodeJS.ErrnoException | null, written: number) => void,
) => void;

const writeAsync: Writer = (fd, buf, length, position, done) =>
  fsWrite(fd, buf, 0, length, position, done);

export class FileWrites {
  private files: RestoreFile[] = [];
  private readonly open = new Map<number, Handles>();
  private openFds = 0;
  private maxOpenFds = 64;
  private direct = false;
  /** Aligned buffers not in use by a direct write, and how many were made. */
  private readonly staging: Buffer[] = [];
  private stagingMade = 0;
  private inFlight = 0;
  /** The first failure of a direct write, thrown by the next call. */
  private failure?: Error;
  /** Callers waiting for a direct write to complete. */
  private waiters: Array<() => void> = [];
  /** Bytes written with direct I/O so far. */
  directBytes = 0;

  /**
   * `openFile` and `writeFile` (asynchronous, for direct writes): how files are opened and
   * written (tests refuse direct I/O with them).
   */
  constructor(
    private readonly openFile: Opener = openSync,
    private readonly writeFile: Writer = writeAsync,
  ) {}

  /**
   * The target files, the descriptors kept open at once, and whether large writes may bypass
   * the page cache. Only between restores' spans (nothing in flight).
   */
  setFiles(files: RestoreFile[], maxOpenFiles: number, direct: boolean): void {
    this.closeAll();
    this.files = files;
    this.maxOpenFds = Math.max(2, maxOpenFiles);
    this.direct = direct && O_DIRECT !== 0;
  }

  /**
   * Writes the concatenation of `parts` into `file` at `position`. Its direct part is copied
   * into an aligned buffer and written asynchronously: `parts` can be reused once this
   * resolves; `settle` waits for the writes.
   */
  async write(file: number, parts: Buffer[], position: number, keepOpen: number): Promise<void> {
    this.throwFailure();
    let length = 0;
    for (const p of parts) length += p.length;
    const cut = this.direct
      ? alignedInterior(position, position + length, DIRECT_MIN, DIRECT_CUT)
      : undefined;
    if (cut) {
      const [from, to] = cut;
      const rel = (at: number) => at - position;
      if (await this.writeDirect(file, sliceParts(parts, rel(from), rel(to)), from, keepOpen)) {
        if (from > position)
          this.writeCached(file, sliceParts(parts, 0, rel(from)), position, keepOpen);
        if (to < position + length)
          this.writeCached(file, sliceParts(parts, rel(to), length), to, keepOpen);
        return;
      }
    }
    this.writeCached(file, parts, position, keepOpen);
  }

  /**
   * Closes a file, at once or when its last direct write completes; sets its mode and times
   * first if `finish` (after its last write).
   */
  close(file: number, finish: boolean): void {
    const h = this.open.get(file);
    if (!h) return;
    this.open.delete(file);
    // With writes in flight, the last one to complete closes it (settle waits for that).
    if (h.pending) h.closing = { file, finish };
    else this.finishClose(h, file, finish);
  }

  /** Sets mode and times if `finish`, and closes the descriptors. */
  private finishClose(h: Handles, file: number, finish: boolean): void {
    try {
      if (finish) {
        const { mode, mtime } = this.files[file]!;
        const fd = h.cached >= 0 ? h.cached : h.direct;
        fchmodSync(fd, mode);
        futimesSync(fd, mtime / 1000, mtime / 1000);
      }
    } catch (err) {
      throw ioError(err, `cannot set mode and times of ${this.files[file]!.path}`);
    } finally {
      this.closeHandles(h);
    }
  }

  /** Waits until no direct write is in flight; throws the first that failed. */
  async settle(): Promise<void> {
    while (this.inFlight) await this.completion();
    this.throwFailure();
  }

  /** Closes every descriptor; only once nothing is in flight (see settle). */
  closeAll(): void {
    for (const h of this.open.values()) this.closeHandles(h);
    this.open.clear();
    this.failure = undefined;
  }

  private writeCached(file: number, parts: Buffer[], position: number, keepOpen: number): void {
    const fd = this.fd(file, 'cached', keepOpen);
    try {
      for (let pending = parts; pending.length;) {
        const n = writevSync(fd, pending, position);
        position += n;
        pending = sliceParts(pending, n, Infinity);
      }
    } catch (err) {
      throw ioError(err, `cannot write ${this.files[file]!.path}`);
    }
  }

  /**
   * Starts direct writes of aligned bytes, piece by piece through the aligned buffers (waiting
   * for one to be free); false, with nothing written, where direct I/O is unavailable.
   */
  private async writeDirect(
    file: number,
    parts: Buffer[],
    position: number,
    keepOpen: number,
  ): Promise<boolean> {
    const first = await this.takeStaging();
    let fd = -1;
    try {
      if (first) fd = this.fd(file, 'direct', keepOpen);
    } catch (err) {
      this.giveBack(first!);
      throw err;
    }
    if (!first || fd < 0) {
      if (first) this.giveBack(first);
      this.direct = false;
      return false;
    }
    const h = this.open.get(file)!;
    let buf: Buffer | undefined = first;
    let k = 0;
    let partAt = 0;
    for (let at = position; ;) {
      let fill = 0;
      while (k < parts.length && fill < buf.length) {
        const part = parts[k]!;
        const n = part.copy(buf, fill, partAt);
        fill += n;
        partAt += n;
        if (partAt === part.length) [k, partAt] = [k + 1, 0];
      }
      if (!fill) {
        this.giveBack(buf);
        return true;
      }
      this.submit(file, h, fd, buf, fill, at);
      at += fill;
      if (k === parts.length) return true;
      buf = await this.takeStaging();
      if (!buf) throw new RestoreIoError('no aligned memory for direct writes', undefined);
    }
  }

  /**
   * Writes one aligned piece asynchronously. Where the file system refuses (EINVAL), or writes
   * only part, the rest is written through the page cache from the same buffer before it is
   * given back; so no byte is lost, and later writes do not try direct I/O again.
   */
  private submit(file: number, h: Handles, fd: number, buf: Buffer, length: number, at: number) {
    h.pending++;
    this.inFlight++;
    const completed = () => {
      if (--h.pending === 0 && h.closing) {
        try {
          this.finishClose(h, h.closing.file, h.closing.finish);
        } catch (failure) {
          this.failure ??= failure as Error;
        }
      }
      this.inFlight--;
      this.giveBack(buf);
    };
    try {
      this.writeFile(fd, buf, length, at, (err, written) => {
        try {
          if (err && err.code !== 'EINVAL')
            throw ioError(err, `cannot write ${this.files[file]!.path}`);
          if (err) this.direct = false;
          const n = err ? 0 : written;
          this.directBytes += n;
          if (n < length) this.writeCached(file, [buf.subarray(n, length)], at + n, file);
        } catch (failure) {
          this.failure ??= failure as Error;
        } finally {
          completed();
        }
      });
    } catch (err) {
      completed();
      throw err;
    }
  }

  /** A free aligned buffer, waiting for a write to finish if all are in use; undefined without WebAssembly. */
  private async takeStaging(): Promise<Buffer | undefined> {
    for (;;) {
      this.throwFailure();
      const free = this.staging.pop();
      if (free) return free;
      if (this.stagingMade < STAGING_BUFFERS) {
        const made = alignedBuffer(STAGING_BYTES);
        if (made) this.stagingMade++;
        return made;
      }
      await this.completion();
    }
  }

  private giveBack(buf: Buffer): void {
    this.staging.push(buf);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private completion(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure;
  }

  /**
   * The descriptor of a file, opened on first use; -1 for `direct` when the file system refuses
   * direct I/O. Descriptors of other files are closed to stay under the limit (never `keepOpen`'s,
   * nor any with writes in flight).
   */
  private fd(file: number, kind: 'cached' | 'direct', keepOpen: number): number {
    let h = this.open.get(file);
    if (h && h[kind] >= 0) return h[kind];
    while (this.openFds >= this.maxOpenFds && this.evict(file, keepOpen));
    const { path } = this.files[file]!;
    let fd: number;
    try {
      fd = this.openFile(path, kind === 'direct' ? WRITE_NOFOLLOW | O_DIRECT : WRITE_NOFOLLOW);
    } catch (err) {
      if (kind === 'direct' && (err as { code?: string }).code === 'EINVAL') return -1;
      throw ioError(err, `cannot open ${path}`);
    }
    if (!h) this.open.set(file, (h = { cached: -1, direct: -1, pending: 0 }));
    h[kind] = fd;
    this.openFds++;
    return fd;
  }

  /** Closes the descriptors of the oldest idle open file other than these two; false if none. */
  private evict(file: number, keepOpen: number): boolean {
    for (const [f, h] of this.open) {
      if (f === file || f === keepOpen || h.pending) continue;
      this.open.delete(f);
      this.closeHandles(h);
      return true;
    }
    return false;
  }

  private closeHandles(h: Handles): void {
    for (const fd of [h.cached, h.direct]) {
      if (fd < 0) continue;
      this.openFds--;
      closeSync(fd);
    }
  }
}

export function ioError(err: unknown, what: string): RestoreIoError {
  const code = (err as { code?: unknown }).code;
  return new RestoreIoError(
    `${what}: ${(err as Error).message}`,
    typeof code === 'string' ? code : undefined,
  );
}
