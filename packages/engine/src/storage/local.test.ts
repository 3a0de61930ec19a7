import { existsSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError, NotFoundError } from '../errors.js';
import { describeStorageConformance, listAll } from '../testing/conformance.js';
import { DIRECT_ALIGN, O_DIRECT, paddableBuffer, roundUp } from '../util/direct-io.js';
import { DIRECT_PUT_MIN, DirectPut } from './direct-put.js';
import { LocalStorage } from './local.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'kb-local-'));
}

describeStorageConformance('LocalStorage', async () => {
  const dir = await tempDir();
  return {
    storage: new LocalStorage(path.join(dir, 'repo')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

/** A direct writer whose file system refuses direct I/O (EINVAL, as Linux answers), counting tries. */
function refusingDirectPut(): { direct: DirectPut; tries: () => number } {
  let tries = 0;
  const direct = new DirectPut(async (file, flags, mode) => {
    if (O_DIRECT && flags & O_DIRECT) {
      tries++;
      throw Object.assign(new Error('EINVAL: invalid argument, open'), { code: 'EINVAL' });
    }
    return open(file, flags, mode);
  });
  return { direct, tries: () => tries };
}

describeStorageConformance('LocalStorage (direct I/O refused)', async () => {
  const dir = await tempDir();
  return {
    storage: new LocalStorage(path.join(dir, 'repo'), { directPut: refusingDirectPut().direct }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('LocalStorage specifics', () => {
  let dir: string;
  let root: string;
  let s: LocalStorage;

  beforeEach(async () => {
    dir = await tempDir();
    root = path.join(dir, 'repo');
    s = new LocalStorage(root);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the absolute root as location and maps keys to files below it', async () => {
    const rel = new LocalStorage(path.relative(process.cwd(), root));
    expect(rel.location).toBe(root);
    await s.put('data/ab/cdef', Buffer.from('hello'));
    expect((await stat(path.join(root, 'data', 'ab', 'cdef'))).size).toBe(5);
  });

  it('creates files 0600 and directories 0700', async () => {
    await s.put('data/ab/x', Buffer.from('x'));
    expect((await stat(path.join(root, 'data', 'ab', 'x'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(root, 'data', 'ab'))).mode & 0o777).toBe(0o700);
  });

  it('leaves no temp files after puts', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => s.put(`t/${i % 3}/k${i}`, Buffer.alloc(i))),
    );
    const all = await readdir(root, { recursive: true });
    expect(all.filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('hides an interrupted write: a stray temp file is neither listed nor readable', async () => {
    await s.put('data/ab/done', Buffer.from('complete'));
    // What a crash between write and rename leaves behind.
    await writeFile(path.join(root, 'data', 'ab', '.tmp~0123456789abcdef'), 'half a pa');
    await mkdir(path.join(root, 'data', 'cd'), { recursive: true });
    await writeFile(path.join(root, 'data', 'cd', '.tmp~fedcba9876543210'), 'half');
    expect(await listAll(s, '')).toEqual([{ key: 'data/ab/done', size: 8 }]);
    expect(await listAll(s, 'data/cd/')).toEqual([]);
    await expect(s.get('data/cd/half')).rejects.toBeInstanceOf(NotFoundError);
    // And the next put of the same directory is unaffected.
    await s.put('data/cd/new', Buffer.from('n'));
    expect(await listAll(s, 'data/cd/')).toEqual([{ key: 'data/cd/new', size: 1 }]);
  });

  it('a failed put leaves no object and no temp file, and keeps the previous value', async () => {
    await s.put('config', Buffer.from('v1'));
    // "config" is a file, so "config/x" cannot be created.
    const err = await s.put('config/x', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).message).toContain('config/x');
    expect((err as EngineError).message).not.toMatch(/\n\s+at /);
    expect(await s.exists('config/x')).toBe(false);

    // A directory squatting on the key: the rename fails after the temp file was written.
    await mkdir(path.join(root, 'busy', 'key', 'sub'), { recursive: true });
    await expect(s.put('busy/key', Buffer.from('data'))).rejects.toBeInstanceOf(EngineError);
    expect(await readdir(path.join(root, 'busy'))).toEqual(['key']);
    expect(await s.exists('busy/key')).toBe(false);
    expect((await s.get('config')).toString()).toBe('v1');
    expect(await listAll(s, '')).toEqual([{ key: 'config', size: 2 }]);
  });

  it('writes large objects with direct I/O, at their exact size, 0600, leaving no temp file', async () => {
    const flags: number[] = [];
    const direct = new DirectPut(async (file, f, mode) => {
      const fh = await open(file, f, mode);
      flags.push(f);
      return fh;
    });
    const d = new LocalStorage(root, { directPut: direct });
    const data = Buffer.alloc(3 * DIRECT_PUT_MIN + 4099, 7);
    data.write('first', 0);
    data.write('last', data.length - 4);
    await d.put('data/ab/pack', data);
    await d.put('data/ab/small', Buffer.from('small'));
    const file = path.join(root, 'data', 'ab', 'pack');
    expect((await readFile(file)).equals(data)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readdir(path.join(root, 'data', 'ab'))).sort()).toEqual(['pack', 'small']);
    // Opened for direct I/O once: for the large object only (where the platform has it), and
    // written that way (a refused write would have turned direct I/O off).
    expect(flags.filter((f) => O_DIRECT && f & O_DIRECT)).toHaveLength(O_DIRECT ? 1 : 0);
    expect(direct.wants(DIRECT_PUT_MIN)).toBe(Boolean(O_DIRECT));
  });

  it('writes an object lying in a paddable buffer where it lies, padding it there', async () => {
    const buffer = paddableBuffer(DIRECT_PUT_MIN + 3 * DIRECT_ALIGN)!;
    const memory = Buffer.from(buffer.buffer);
    memory.fill(9);
    const data = buffer.subarray(0, DIRECT_PUT_MIN + 100);
    data.fill(5, 0, 100);
    await s.put('data/cd/pack', data);
    expect((await s.get('data/cd/pack')).equals(data)).toBe(true);
    // The pad up to whole blocks was zeroed; the caller's data, and memory past the pad, not.
    const padEnd = roundUp(data.length);
    expect(memory.subarray(data.length, padEnd).every((b) => b === (O_DIRECT ? 0 : 9))).toBe(true);
    expect(memory[padEnd]).toBe(9);
    expect(data[0]).toBe(5);
    // Refused direct I/O: the same object is written through the page cache.
    const d = new LocalStorage(root, { directPut: refusingDirectPut().direct });
    await d.put('data/cd/again', data);
    expect((await d.get('data/cd/again')).equals(data)).toBe(true);
    expect((await readdir(path.join(root, 'data', 'cd'))).sort()).toEqual(['again', 'pack']);
  });

  it('offers other threads its root and direct-write setting, unless given a writer', () => {
    expect(s.threadWrites()).toEqual({ root, directWrites: true });
    expect(new LocalStorage(root, { directWrites: false }).threadWrites()).toEqual({
      root,
      directWrites: false,
    });
    expect(new LocalStorage(root, { directPut: new DirectPut() }).threadWrites()).toBeUndefined();
  });

  it('writes through the page cache where direct I/O is refused, and stops trying', async () => {
    const { direct, tries } = refusingDirectPut();
    const d = new LocalStorage(root, { directPut: direct });
    const data = Buffer.alloc(DIRECT_PUT_MIN + 1, 3);
    await d.put('p/1', data);
    await d.put('p/2', data);
    expect((await d.get('p/1')).equals(data)).toBe(true);
    expect((await d.get('p/2')).equals(data)).toBe(true);
    expect(tries()).toBe(O_DIRECT ? 1 : 0);
    expect((await readdir(path.join(root, 'p'))).sort()).toEqual(['1', '2']);
  });

  it('a failed large put leaves no object and no temp file', async () => {
    await mkdir(path.join(root, 'busy', 'key', 'sub'), { recursive: true });
    const big = Buffer.alloc(2 * DIRECT_PUT_MIN + 1, 1);
    await expect(s.put('busy/key', big)).rejects.toBeInstanceOf(EngineError);
    expect(await readdir(path.join(root, 'busy'))).toEqual(['key']);
  });

  it('never writes outside the root', async () => {
    await expect(s.put('../outside', Buffer.from('x'))).rejects.toMatchObject({ code: 'EKEY' });
    await expect(s.delete('../outside')).rejects.toMatchObject({ code: 'EKEY' });
    await expect(s.put('/etc/outside', Buffer.from('x'))).rejects.toMatchObject({ code: 'EKEY' });
    expect(existsSync(path.join(dir, 'outside'))).toBe(false);
    await expect(listAll(s, '../')).rejects.toMatchObject({ code: 'EKEY' });
  });

  it('skips foreign entries when listing', async () => {
    await s.put('a/real', Buffer.from('r'));
    await writeFile(path.join(root, 'a', 'has space'), 'x');
    await symlink(path.join(root, 'a', 'real'), path.join(root, 'a', 'link'));
    expect(await listAll(s, '')).toEqual([{ key: 'a/real', size: 1 }]);
  });

  it('lists nothing and reads nothing when the root does not exist yet', async () => {
    expect(await listAll(s, '')).toEqual([]);
    expect(await s.exists('config')).toBe(false);
    await s.delete('config');
    await expect(s.get('config')).rejects.toBeInstanceOf(NotFoundError);
  });
});
