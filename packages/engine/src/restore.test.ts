import { afterEach, describe, expect, it } from 'vitest';
import { chmod, lstat, readdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backup } from './backup.js';
import { IntegrityError } from './errors.js';
import { interleaveFiles, restoreDirectory } from './restore.js';
import { LocalStorage } from './storage/local.js';
import { MemoryStorage } from './storage/memory.js';
import { initTestRepo, randomBytesSeeded, tempDirs } from './testing/repo-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe.each([
  { name: 'inline', workers: 0, local: false },
  { name: 'worker threads, local storage', workers: 2, local: true },
  { name: 'worker threads, memory storage', workers: 2, local: false },
])('restoreDirectory ($name)', ({ workers, local }) => {
  const repoFor = async () =>
    initTestRepo(local ? new LocalStorage(await dirs.make()) : new MemoryStorage(), 'pw', {
      packSize: 1 << 20,
    });

  it('restores files spread over many spans and packs, repeated content, modes and times', async () => {
    const src = await dirs.make();
    const block = randomBytesSeeded(300_000, 1);
    const files: Record<string, Buffer> = {
      // Several packs of 1 MiB: the file's blobs lie in many spans.
      'big.bin': randomBytesSeeded(9 << 20, 2),
      // The same blobs several times in one file.
      'repeated.bin': Buffer.concat([block, block, block, block]),
      'copy-of-block': block,
      empty: Buffer.alloc(0),
    };
    for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
    await chmod(join(src, 'big.bin'), 0o640);
    await utimes(
      join(src, 'big.bin'),
      new Date('2020-01-02T03:04:05Z'),
      new Date('2021-02-03T04:05:06Z'),
    );
    await chmod(join(src, 'repeated.bin'), 0o604);
    const repo = await repoFor();
    const snap = await backup(repo, { directory: src }, { saver: { workers } });

    const out = await dirs.make();
    // Whatever is in the way is replaced, never followed.
    const victim = join(await dirs.make(), 'victim');
    await writeFile(victim, 'keep me');
    await symlink(victim, join(out, 'big.bin'));
    const result = await restoreDirectory(repo, snap, out, { workers });
    expect(result.files).toBe(4);
    // Every file byte, duplicates included, counted once (spans finish concurrently).
    const total = Object.values(files).reduce((n, data) => n + data.length, 0);
    expect(result.bytes).toBe(total);
    expect(await readFile(victim, 'utf8')).toBe('keep me');
    for (const [name, data] of Object.entries(files)) {
      const st = await lstat(join(out, name));
      expect(st.isFile(), name).toBe(true);
      expect((await readFile(join(out, name))).equals(data), name).toBe(true);
      const orig = await lstat(join(src, name));
      expect(st.mode & 0o7777, name).toBe(orig.mode & 0o7777);
      // Times travel as float milliseconds: equal to the microsecond.
      expect(Math.abs(st.mtimeMs - orig.mtimeMs), name).toBeLessThan(0.001);
    }
    expect((await readdir(out)).sort()).toEqual(Object.keys(files).sort());
  });

  it('refuses a corrupted blob with an integrity error and writes none of its bytes', async () => {
    const src = await dirs.make();
    const data = randomBytesSeeded(100_000, 3);
    await writeFile(join(src, 'only.bin'), data);
    const storage = local ? new LocalStorage(await dirs.make()) : new MemoryStorage();
    const repo = await initTestRepo(storage);
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    const [entry] = [...repo.index.entries()].filter((e) => e.type === 'data');
    const key = `data/${entry!.pack.slice(0, 2)}/${entry!.pack}`;
    const pack = Buffer.from(await storage.get(key));
    pack[entry!.offset + 40]! ^= 1;
    await storage.put(key, pack);

    const out = await dirs.make();
    const failure = await restoreDirectory(repo, snap, out, { workers }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as Error).message).toMatch(
      new RegExp(`blob ${entry!.id}: authentication failed`),
    );
    const written = await readFile(join(out, 'only.bin')).catch(() => Buffer.alloc(0));
    expect(written.length).toBe(0);
  });
});

describe('interleaveFiles', () => {
  it('takes the spans of large files in turn, keeping each file’s order and every span once', () => {
    const spans = [
      { id: 'a1', files: [1] },
      { id: 'a2', files: [1, 7] },
      { id: 'a3', files: [1] },
      { id: 's', files: [4, 5, 6] },
      { id: 'b1', files: [2] },
      { id: 'b2', files: [2] },
      { id: 'e', files: [] },
    ];
    expect(interleaveFiles(spans).map((s) => s.id)).toEqual([
      'a1',
      's',
      'b1',
      'e',
      'a2',
      'b2',
      'a3',
    ]);
  });

  it('keeps the order when every span starts with another file', () => {
    const spans = [{ files: [3] }, { files: [1] }, { files: [2] }];
    expect(interleaveFiles(spans)).toBe(spans);
  });
});
