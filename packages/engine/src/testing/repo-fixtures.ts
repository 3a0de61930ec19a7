/** Helpers for tests of the engine and of packages built on it: fast repositories, random trees. */
import { mkdtemp, mkdir, rm, symlink, writeFile, readdir, lstat, readFile, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Repository, type InitOptions } from '../repository.js';
import { MemoryStorage } from '../storage/memory.js';
import type { Storage } from '../storage/types.js';

/** scrypt parameters cheap enough for tests (never use outside tests). */
export const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export async function initTestRepo(
  storage: Storage = new MemoryStorage(),
  password = 'test-password',
  options: InitOptions = {},
): Promise<Repository> {
  return Repository.init(storage, password, { scrypt: TEST_SCRYPT, ...options });
}

export async function tempDir(prefix = 'kb-test-'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A deterministic pseudo-random generator (xorshift32) so failures reproduce. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export function randomBytesSeeded(n: number, seed: number): Buffer {
  const r = prng(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i += 4) {
    const v = r();
    b[i] = v & 255;
    if (i + 1 < n) b[i + 1] = (v >>> 8) & 255;
    if (i + 2 < n) b[i + 2] = (v >>> 16) & 255;
    if (i + 3 < n) b[i + 3] = (v >>> 24) & 255;
  }
  return b;
}

/**
 * Writes a random tree: empty files, small and large files, runs of zeros (sparse-ish), long and
 * unicode names, nested directories, symlinks. Returns the number of files written.
 */
export async function writeRandomTree(root: string, seed: number, options: { files?: number; maxSize?: number } = {}): Promise<number> {
  const r = prng(seed);
  const count = options.files ?? 40;
  const maxSize = options.maxSize ?? 300_000;
  const dirs = [root];
  for (let i = 0; i < count; i++) {
    if (r() % 5 === 0) {
      const d = join(dirs[r() % dirs.length]!, `dir-${i}-${['a', 'ü', '日本', 'sp ace'][r() % 4]}`);
      await mkdir(d, { recursive: true });
      dirs.push(d);
    }
    const dir = dirs[r() % dirs.length]!;
    const kind = r() % 6;
    const name = kind === 0 ? `${'long-name-'.repeat(20)}${i}` : `f${i}-${['x', 'ñ', '🙂', 'z'][r() % 4]}.dat`;
    const size = kind === 1 ? 0 : r() % maxSize;
    const data = kind === 2 ? Buffer.alloc(size) : randomBytesSeeded(size, seed * 1000 + i);
    if (kind === 3 && size > 100) data.fill(0, 10, size - 10);
    await writeFile(join(dir, name), data);
  }
  await symlink('f-target-that-does-not-exist', join(root, 'dangling-link'));
  await symlink('.', join(dirs[dirs.length - 1]!, 'self-link'));
  await mkdir(join(root, 'empty-dir'), { recursive: true });
  return count;
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtimeMs: number;
  data?: Buffer;
  target?: string;
}

/** Reads a whole tree into a map (relative path → entry) for byte-for-byte comparison. */
export async function readTree(root: string): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>();
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const relPath = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs);
      const base = { mode: st.mode & 0o7777, mtimeMs: Math.round(st.mtimeMs) };
      if (st.isDirectory()) {
        out.set(relPath, { type: 'dir', ...base });
        await walk(abs, relPath);
      } else if (st.isSymbolicLink()) {
        out.set(relPath, { type: 'symlink', ...base, target: await readlink(abs) });
      } else {
        out.set(relPath, { type: 'file', ...base, data: await readFile(abs) });
      }
    }
  };
  await walk(root, '');
  return out;
}

/** Temporary directories made during a test, removed together (call `cleanup` in afterEach). */
export function tempDirs(): { make(): Promise<string>; cleanup(): Promise<void> } {
  const made: Array<() => Promise<void>> = [];
  return {
    async make() {
      const d = await tempDir();
      made.push(d.cleanup);
      return d.path;
    },
    async cleanup() {
      while (made.length) await made.pop()!();
    },
  };
}
