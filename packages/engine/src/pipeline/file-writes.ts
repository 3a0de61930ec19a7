/**
 * The writes of a restore worker into its target files, with synchronous calls (cheaper than a
 * trip through the thread pool). The main thread creates every file first (restore-targets.ts);
 * they are opened here without following symlinks.
 *
 * Whole 4 KiB blocks of a large write go to the file with direct I/O (util/direct-io.ts), through
 * a second descriptor, and only its unaligned edges through the page cache. A restore writes each
 * byte once and never reads it back, so caching it only costs: every page of cache taken is
 * memory the kernel must find, zero and later write back and reclaim (on a VM, memory that may
 * first have to come back from the host), and in a container it counts against the memory limit.
 * A direct write and a cached one never share a page, so the kernel keeps both coherent. Where
 * direct I/O is refused (a file system without it), every write goes through the page cache.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  openSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { alignedBuffer, alignedInterior, O_DIRECT, sliceParts } from '../util/direct-io.js';
import type { RestoreFile } from './protocol.js';

const WRITE_NOFOLLOW = constants.O_WRONLY | constants.O_NOFOLLOW;
/** Aligned bytes below which a write goes through the page cache whole. */
const DIRECT_MIN = 64 << 10;
/** Size of the aligned buffer direct writes are copied into. */
const STAGING_BYTES = 1 << 20;

/** An I/O failure while restoring (as opposed to an integrity failure). */
export class RestoreIoError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The descriptors of one open file; -1 = not open. */
interface Handles {
  cached: number;
  direct: number;
}

export class FileWrites {
  private files: RestoreFile[] = [];
  private readonly open = new Map<number, Handles>();
  private openFds = 0;
  private maxOpenFds = 64;
  private direct = false;
  private staging?: Buffer;
  /** Bytes written with direct I/O so far. */
  directBytes = 0;

  /** `openFile`: how files are opened (tests refuse direct I/O with it). */
  constructor(private readonly openFile: (path: string, flags: number) => number = openSync) {}

  /**
   * The target files, the descriptors kept open at once, and whether large writes may bypass
   * the page cache.
   */
  setFiles(files: RestoreFile[], maxOpenFiles: number, direct: boolean): void {
    this.closeAll();
    this.files = files;
    this.maxOpenFds = Math.max(2, maxOpenFiles);
    this.direct = direct && O_DIRECT !== 0;
  }

  /** Writes the concatenation of `parts` into `file` at `position`. */
  write(file: number, parts: Buffer[], position: number, keepOpen: number): void {
    let length = 0;
    for (const p of parts) length += p.length;
    const cut = this.direct ? alignedInterior(position, position + length, DIRECT_MIN) : undefined;
    if (!cut) return this.writeCached(file, parts, position, keepOpen);
    const [from, to] = cut;
    const rel = (at: number) => at - position;
    if (from > position)
      this.writeCached(file, sliceParts(parts, 0, rel(from)), position, keepOpen);
    const done = this.writeDirect(file, sliceParts(parts, rel(from), rel(to)), from, keepOpen);
    if (from + done < length + position)
      this.writeCached(file, sliceParts(parts, rel(from + done), length), from + done, keepOpen);
  }

  /** Closes a file; sets its mode and times first if `finish` (after its last write). */
  close(file: number, finish: boolean): void {
    const h = this.open.get(file);
    if (!h) return;
    this.open.delete(file);
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

  closeAll(): void {
    for (const h of this.open.values()) this.closeHandles(h);
    this.open.clear();
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
   * Writes aligned bytes with direct I/O, copied through the aligned staging buffer; returns how
   * many were written. Fewer than all only when the file system refuses direct I/O (then no
   * further writes try it) or a write came back short: the caller writes the rest cached.
   */
  private writeDirect(file: number, parts: Buffer[], position: number, keepOpen: number): number {
    this.staging ??= alignedBuffer(STAGING_BYTES);
    const staging = this.staging;
    if (!staging) {
      this.direct = false;
      return 0;
    }
    const fd = this.fd(file, 'direct', keepOpen);
    if (fd < 0) return 0;
    let done = 0;
    let k = 0;
    let partAt = 0;
    for (;;) {
      let fill = 0;
      while (k < parts.length && fill < staging.length) {
        const part = parts[k]!;
        const n = part.copy(staging, fill, partAt);
        fill += n;
        partAt += n;
        if (partAt === part.length) [k, partAt] = [k + 1, 0];
      }
      if (!fill) return done;
      let n: number;
      try {
        n = writeSync(fd, staging, 0, fill, position + done);
      } catch (err) {
        if ((err as { code?: string }).code !== 'EINVAL')
          throw ioError(err, `cannot write ${this.files[file]!.path}`);
        this.direct = false;
        return done;
      }
      done += n;
      this.directBytes += n;
      if (n < fill) return done;
    }
  }

  /**
   * The descriptor of a file, opened on first use; -1 for `direct` when the file system refuses
   * direct I/O. Descriptors of other files are closed to stay under the limit (never `keepOpen`'s).
   */
  private fd(file: number, kind: keyof Handles, keepOpen: number): number {
    let h = this.open.get(file);
    if (h && h[kind] >= 0) return h[kind];
    while (this.openFds >= this.maxOpenFds && this.evict(file, keepOpen));
    const { path } = this.files[file]!;
    let fd: number;
    try {
      fd = this.openFile(path, kind === 'direct' ? WRITE_NOFOLLOW | O_DIRECT : WRITE_NOFOLLOW);
    } catch (err) {
      if (kind === 'direct' && (err as { code?: string }).code === 'EINVAL') {
        this.direct = false;
        return -1;
      }
      throw ioError(err, `cannot open ${path}`);
    }
    if (!h) this.open.set(file, (h = { cached: -1, direct: -1 }));
    h[kind] = fd;
    this.openFds++;
    return fd;
  }

  /** Closes the descriptors of the oldest open file other than these two; false if none. */
  private evict(file: number, keepOpen: number): boolean {
    for (const [f, h] of this.open) {
      if (f === file || f === keepOpen) continue;
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
