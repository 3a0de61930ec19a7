/**
 * Directory backend: one file per key under a root directory, `/` in keys mapped to
 * subdirectories. Same contract as every backend (./types.ts).
 *
 * - `put` is atomic and durable: the bytes go to a temp file in the target's directory
 *   (`.tmp~<random>`, a name no key can have), which is fsynced, renamed over the key, and the
 *   directory is fsynced. A crash leaves at most a stray temp file, which `list` never shows.
 *   Large objects (packs) are written with direct I/O, bypassing the page cache (direct-put.ts).
 * - Files are created `0600` and directories `0700` (subject to the umask): a repository holds
 *   encrypted backups of secrets, and nobody else needs to read it.
 * - `list` walks the tree and yields regular files whose names are valid key segments; temp
 *   files, symbolic links and other foreign entries are skipped.
 * - Keys are validated before any path is built, so none can leave the root.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EngineError, NotFoundError } from '../errors.js';
import { DirectPut, DirectRefused } from './direct-put.js';
import { assertValidKey } from './keys.js';
import {
  assertValidPrefix,
  assertValidRequest,
  describeError,
  existsByStat,
  isValidKey,
  rangeError,
} from './internal.js';
import type { ByteRange, ObjectInfo, Storage, ThreadWrites } from './types.js';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const TEMP_PREFIX = '.tmp~';
/** Errors meaning "this key is not a file here". */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
/** Concurrent `stat` calls while listing one directory. */
const LIST_STAT_CONCURRENCY = 32;

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export class LocalStorage implements Storage {
  readonly location: string;
  /** Absolute path of the root directory. */
  readonly root: string;

  private readonly direct?: DirectPut;
  /** Whether another thread can write as this storage does (no writer given for tests). */
  private readonly shareable: boolean;

  /**
   * `directWrites`: write large objects with direct I/O where possible (default true);
   * `directPut` (for tests): the writer that does it.
   */
  constructor(rootDir: string, options: { directWrites?: boolean; directPut?: DirectPut } = {}) {
    if (!rootDir) throw new EngineError('EUSAGE', 'local storage needs a directory path');
    this.root = path.resolve(rootDir);
    this.location = this.root;
    if (options.directWrites ?? true) this.direct = options.directPut ?? new DirectPut();
    this.shareable = !options.directPut;
  }

  threadWrites(): ThreadWrites | undefined {
    return this.shareable ? { root: this.root, directWrites: !!this.direct } : undefined;
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    assertValidRequest(key, range);
    const fh = await this.openForRead(key);
    try {
      const size = (await fh.stat()).size;
      if (!range) return await fh.readFile();
      if (range.offset + range.length > size) throw rangeError(key, range, size);
      const buf = Buffer.allocUnsafe(range.length);
      let done = 0;
      while (done < range.length) {
        const { bytesRead } = await fh.read(buf, done, range.length - done, range.offset + done);
        if (bytesRead === 0) throw rangeError(key, range, range.offset + done);
        done += bytesRead;
      }
      return buf;
    } catch (err) {
      throw this.wrap(err, 'read', key);
    } finally {
      await fh.close().catch(() => {});
    }
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    assertValidKey(key);
    const fh = await this.openForRead(key);
    // The stream owns the handle and closes it at end or on destroy.
    return fh.createReadStream({ autoClose: true });
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    assertValidKey(key);
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    const tmp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    try {
      fh = await this.writeTemp(tmp, data).catch(async (err: unknown) => {
        // Directories are made when a put first needs them, not checked before every put.
        if (errnoCode(err) !== 'ENOENT') throw err;
        await this.ensureDir(dir);
        return this.writeTemp(tmp, data);
      });
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, target);
      await syncDir(dir);
    } catch (err) {
      await fh?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw this.wrap(err, 'write', key);
    }
  }

  /**
   * Creates the temp file `tmp` holding `data` and returns it open (unsynced): large objects
   * are written with direct I/O where the file system allows it.
   */
  private async writeTemp(tmp: string, data: Buffer | Uint8Array): Promise<FileHandle> {
    if (this.direct?.wants(data.length)) {
      try {
        return await this.direct.create(tmp, data, FILE_MODE);
      } catch (err) {
        if (!(err instanceof DirectRefused)) throw err;
        await unlink(tmp).catch(() => {});
      }
    }
    const fh = await open(tmp, 'wx', FILE_MODE);
    try {
      await fh.writeFile(data);
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  async stat(key: string): Promise<ObjectInfo> {
    assertValidKey(key);
    try {
      const st = await stat(this.pathOf(key));
      if (!st.isFile()) throw new NotFoundError(key);
      return { key, size: st.size };
    } catch (err) {
      throw this.wrap(err, 'stat', key);
    }
  }

  exists(key: string): Promise<boolean> {
    return existsByStat(() => this.stat(key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    assertValidPrefix(prefix);
    // Walk from the deepest directory the prefix names completely, filter the rest by name.
    const cut = prefix.lastIndexOf('/');
    const start = cut < 0 ? '' : prefix.slice(0, cut);
    yield* this.walk(start, prefix);
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    const file = this.pathOf(key);
    try {
      await unlink(file);
    } catch (err) {
      const code = errnoCode(err);
      if (code && MISSING.has(code)) return;
      // unlink of a directory fails with EISDIR (Linux) or EPERM (macOS): a directory is no
      // object, so there is nothing to delete.
      if ((code === 'EISDIR' || code === 'EPERM') && (await isDirectory(file))) return;
      throw this.wrap(err, 'delete', key);
    }
  }

  async close(): Promise<void> {}

  localPath(key: string): string {
    assertValidKey(key);
    return this.pathOf(key);
  }

  /** Absolute path of a (validated) key. */
  private pathOf(key: string): string {
    const p = path.join(this.root, ...key.split('/'));
    // Belt and braces: validation already rules out `..` and absolute keys.
    if (!p.startsWith(this.root + path.sep)) {
      throw new EngineError('EKEY', `invalid storage key: ${JSON.stringify(key)}`);
    }
    return p;
  }

  private async openForRead(key: string): Promise<FileHandle> {
    let fh: FileHandle;
    try {
      fh = await open(this.pathOf(key), 'r');
    } catch (err) {
      throw this.wrap(err, 'read', key);
    }
    try {
      // Opening a directory succeeds on Linux; a directory is not an object.
      if (!(await fh.stat()).isFile()) throw new NotFoundError(key);
      return fh;
    } catch (err) {
      await fh.close().catch(() => {});
      throw this.wrap(err, 'read', key);
    }
  }

  /** Creates `dir` if needed, and makes the new directory entries durable. */
  private async ensureDir(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    if (first === undefined) return;
    // Every new directory's entry lives in its parent: sync from the first new one's parent down.
    const rel = path.relative(path.dirname(first), dir).split(path.sep);
    let current = path.dirname(first);
    await syncDir(current);
    for (const part of rel.slice(0, -1)) {
      current = path.join(current, part);
      await syncDir(current);
    }
  }

  private async *walk(relDir: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const abs = relDir === '' ? this.root : path.join(this.root, ...relDir.split('/'));
    let entries: Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code && MISSING.has(code)) return;
      throw this.wrap(err, 'list', relDir === '' ? '(root)' : `${relDir}/`);
    }
    const files: string[] = [];
    const dirs: string[] = [];
    for (const entry of entries) {
      const key = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (!isValidKey(key)) continue; // temp files and foreign names
      if (entry.isFile()) {
        if (key.startsWith(prefix)) files.push(key);
      } else if (entry.isDirectory()) {
        // Descend only where keys can still start with the prefix.
        const asDir = `${key}/`;
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir)) dirs.push(key);
      }
    }
    for (let i = 0; i < files.length; i += LIST_STAT_CONCURRENCY) {
      const batch = files.slice(i, i + LIST_STAT_CONCURRENCY);
      const infos = await Promise.all(batch.map((key) => this.statIfPresent(key)));
      for (const info of infos) if (info) yield info;
    }
    for (const dir of dirs) yield* this.walk(dir, prefix);
  }

  private async statIfPresent(key: string): Promise<ObjectInfo | undefined> {
    try {
      return await this.stat(key);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined; // deleted while listing
      throw err;
    }
  }

  /** Maps a file-system error to the engine's errors, with the key and location, no stack. */
  private wrap(err: unknown, op: string, key: string): Error {
    if (err instanceof EngineError) return err;
    const code = errnoCode(err);
    if (code && MISSING.has(code) && op !== 'write') return new NotFoundError(key, { cause: err });
    const message = `cannot ${op} ${key} in ${this.location}: ${describeError(err)}`;
    return new EngineError(engineCode(code), message, { cause: err });
  }
}

/** Engine error code for a file-system error: permanent conditions get their own codes. */
function engineCode(errno: string | undefined): string {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'EACCESS';
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return 'ENOSPACE';
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'ENAMETOOLONG':
    case 'ELOOP':
      return 'ECONFLICT';
    default:
      return 'EIO';
  }
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** fsyncs a directory so renames and new entries in it survive a crash. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms and file systems cannot fsync a directory; the rename is still atomic.
    const code = errnoCode(err);
    if (!code || !['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP'].includes(code)) throw err;
  } finally {
    await fh?.close().catch(() => {});
  }
}
