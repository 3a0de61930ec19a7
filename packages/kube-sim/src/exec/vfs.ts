/**
 * A container's view of the file system: a mount table of container paths → host directories.
 * Every path is resolved here, component by component, with `..` and symbolic links interpreted
 * inside the container (an absolute link target restarts at the container's root), so that no
 * path can reach a host file outside the mounted directories.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

export interface Mount {
  /** Absolute, normalized container path ('/' for the root file system). */
  path: string;
  /** Host directory that holds the mount's content. */
  host: string;
  readOnly: boolean;
}

const MESSAGES: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ELOOP: 'Symbolic link loop',
  EISDIR: 'Is a directory',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
  EBUSY: 'Resource busy',
  EXDEV: 'Invalid cross-device link',
};

/** A file system error with the errno code and the message busybox would print. */
export class FsError extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
  ) {
    super(MESSAGES[code] ?? code);
  }
}

/** Converts a Node.js fs error (or an FsError) into its busybox message. */
export function errorMessage(err: unknown): string {
  if (err instanceof FsError) return err.message;
  const code = (err as { code?: string } | undefined)?.code;
  if (code && MESSAGES[code]) return MESSAGES[code];
  return err instanceof Error ? err.message : String(err);
}

export interface Resolved {
  /** Normalized container path. */
  path: string;
  /** Host path (always inside `mount.host`). */
  host: string;
  mount: Mount;
}

const MAX_LINKS = 40;

export class PodFs {
  private readonly mounts: Mount[];

  constructor(mounts: Mount[]) {
    this.mounts = mounts
      .map((m) => ({ ...m, path: posix.normalize(`/${m.path}`).replace(/(.)\/$/, '$1') }))
      .sort((a, b) => b.path.length - a.path.length);
    if (!this.mounts.some((m) => m.path === '/')) throw new Error('a root mount is required');
  }

  listMounts(): readonly Mount[] {
    return this.mounts;
  }

  /** The mount and host path of a normalized container path (no symlink handling). */
  locate(path: string): Resolved {
    for (const m of this.mounts) {
      if (m.path === '/' || path === m.path || path.startsWith(`${m.path}/`)) {
        const rest = m.path === '/' ? path.slice(1) : path.slice(m.path.length + 1);
        const parts = rest.split('/').filter((p) => p !== '');
        return { path, host: parts.length ? join(m.host, ...parts) : m.host, mount: m };
      }
    }
    throw new FsError('ENOENT', path);
  }

  /**
   * Resolves `path` (relative to `cwd`) to a host path. Symbolic links in the directories on the
   * way are followed; the last component is followed only when `follow` is true. The last
   * component need not exist.
   */
  async resolve(path: string, cwd = '/', follow = true): Promise<Resolved> {
    if (path.includes('\0')) throw new FsError('EINVAL', path);
    const start = path.startsWith('/') ? path : `${cwd}/${path}`;
    const pending = start.split('/').filter((p) => p !== '' && p !== '.');
    const current: string[] = [];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '.') continue;
      if (part === '..') {
        current.pop();
        continue;
      }
      current.push(part);
      const isLast = pending.length === 0;
      if (isLast && !follow) break;
      const here = this.locate(`/${current.join('/')}`);
      let st;
      try {
        st = await lstat(here.host);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          if (isLast) break;
          // an ancestor of a mount point behaves as a directory
          const prefix = `/${current.join('/')}/`;
          if (this.mounts.some((m) => m.path.startsWith(prefix))) continue;
          throw new FsError(code, path);
        }
        throw err;
      }
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) throw new FsError('ELOOP', path);
        const target = await readlink(here.host);
        current.pop();
        if (target.startsWith('/')) current.length = 0;
        pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      } else if (!isLast && !st.isDirectory()) {
        throw new FsError('ENOTDIR', path);
      }
    }
    return this.locate(`/${current.join('/')}`);
  }

  /** Like resolve, but refuses read-only mounts. */
  async resolveForWrite(path: string, cwd = '/', follow = true): Promise<Resolved> {
    const r = await this.resolve(path, cwd, follow);
    if (r.mount.readOnly) throw new FsError('EROFS', path);
    return r;
  }

  /** True when `path` is a mount point (it must not be removed or renamed). */
  isMountPoint(path: string): boolean {
    return this.mounts.some((m) => m.path === path);
  }
}
