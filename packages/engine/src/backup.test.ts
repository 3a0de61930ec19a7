import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile, utimes } from 'node:fs/promises';
import { backup } from './backup.js';
import { restoreDirectory, readItem, restoreItemStream, listItems } from './restore.js';
import { listSnapshots } from './snapshots.js';
import { Repository } from './repository.js';
import { MemoryStorage } from './storage/memory.js';
import { LocalStorage } from './storage/local.js';
import { initTestRepo, readTree, tempDirs, writeRandomTree, randomBytesSeeded } from './testing/repo-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const dir = () => dirs.make();

describe.each([
  { name: 'inline workers, memory storage', workers: 0, local: false },
  { name: 'worker threads, local storage', workers: 2, local: true },
])('backup and restore ($name)', ({ workers, local }) => {
  it('restores a random tree byte for byte, with modes, mtimes and symlinks', async () => {
    const src = await dir();
    await writeRandomTree(src, 7, { files: 60 });
    const storage = local ? new LocalStorage(await dir()) : new MemoryStorage();
    const repo = await initTestRepo(storage);
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    expect(snap.stats.filesTotal).toBeGreaterThan(50);
    expect(snap.stats.bytesAdded).toBeGreaterThan(0);

    const out = await dir();
    await restoreDirectory(repo, snap.id, out);
    const [a, b] = [await readTree(src), await readTree(out)];
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [path, entry] of a) {
      const got = b.get(path)!;
      expect(got.type, path).toBe(entry.type);
      if (entry.type === 'file') expect(got.data!.equals(entry.data!), path).toBe(true);
      if (entry.type === 'symlink') expect(got.target).toBe(entry.target);
      if (entry.type !== 'symlink') expect(got.mode, path).toBe(entry.mode);
      if (entry.type === 'file') expect(got.mtimeMs, path).toBe(entry.mtimeMs);
    }
  });

  it('stores almost nothing for an unchanged second backup, and about the edit for a 1 % edit', async () => {
    const src = await dir();
    const big = randomBytesSeeded(8 << 20, 3);
    await writeFile(join(src, 'big.bin'), big);
    const repo = await initTestRepo();
    const first = await backup(repo, { directory: src }, { saver: { workers } });
    expect(first.stats.bytesAdded).toBeGreaterThanOrEqual(big.length);

    const second = await backup(repo, { directory: src }, { saver: { workers } });
    expect(second.parent).toBe(first.id);
    expect(second.stats.bytesAdded).toBe(0);
    // The parent lets unchanged files skip reading; without it, chunks still dedupe.
    const noParent = await backup(repo, { directory: src }, { saver: { workers }, parent: false });
    expect(noParent.stats.bytesAdded).toBe(0);
    expect(noParent.stats.storedBytesAdded).toBeLessThan(4096);

    // Edit 1 % of the file in one place.
    randomBytesSeeded(84_000, 99).copy(big, 3_000_000);
    await writeFile(join(src, 'big.bin'), big);
    await utimes(join(src, 'big.bin'), new Date(), new Date(Date.now() + 5000));
    const third = await backup(repo, { directory: src }, { saver: { workers } });
    expect(third.stats.bytesAdded).toBeGreaterThan(84_000);
    // One edit touches at most a few chunks of at most 256 KiB each.
    expect(third.stats.bytesAdded).toBeLessThan(84_000 + 3 * 256 * 1024);
    expect(third.stats.bytesAdded).toBeLessThan(big.length * 0.1);

    const out = await dir();
    await restoreDirectory(repo, third, out);
    expect((await readTree(out)).get('big.bin')!.data!.equals(big)).toBe(true);
  });

  it('chunks a file larger than one region in parallel, restores it, and dedupes an in-place edit', async () => {
    const src = await dir();
    const big = randomBytesSeeded(40 << 20, 8);
    await writeFile(join(src, 'regions.bin'), big);
    const repo = await initTestRepo();
    const first = await backup(repo, { directory: src }, { saver: { workers } });
    expect(first.stats.bytesAdded).toBeGreaterThanOrEqual(big.length);
    randomBytesSeeded(70_000, 9).copy(big, 20_000_000);
    await writeFile(join(src, 'regions.bin'), big);
    const second = await backup(repo, { directory: src }, { saver: { workers }, parent: false });
    expect(second.stats.bytesAdded).toBeLessThan(70_000 + 3 * 256 * 1024);
    const out = await dir();
    await restoreDirectory(repo, second, out);
    expect((await readTree(out)).get('regions.bin')!.data!.equals(big)).toBe(true);
  });

  it('restores many multi-blob files with few open handles (eviction under concurrency)', async () => {
    const src = await dir();
    for (let i = 0; i < 60; i++) await writeFile(join(src, `f${i}`), randomBytesSeeded(20_000 + i * 9_000, i));
    const repo = await initTestRepo(new MemoryStorage(), 'pw', { packSize: 256 * 1024 });
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    const out = await dir();
    await restoreDirectory(repo, snap, out, { maxOpenFiles: 3, concurrency: 4, workers });
    const [a, b] = [await readTree(src), await readTree(out)];
    for (const [p, e] of a) expect(b.get(p)?.data?.equals(e.data!), p).toBe(true);
  });

  it('saves documents and streams, and reads them back', async () => {
    const repo = await initTestRepo();
    const large = randomBytesSeeded(3 << 20, 11);
    async function* pieces() {
      for (let i = 0; i < large.length; i += 100_000) yield large.subarray(i, i + 100_000);
    }
    const snap = await backup(
      repo,
      {
        documents: [
          { name: 'v1/configmaps/ns/a', data: JSON.stringify({ kind: 'ConfigMap', data: { k: 'v' } }) },
          { name: 'empty', data: '' },
        ],
        streams: [{ name: 'volumes/data.tar', stream: pieces(), mediaType: 'application/x-tar' }],
      },
      { tags: ['ns=team-a'], saver: { workers } },
    );
    expect(snap.tags).toEqual(['ns=team-a']);
    expect((await listItems(repo, snap)).map((i) => [i.name, i.kind])).toEqual([
      ['v1/configmaps/ns/a', 'document'],
      ['empty', 'document'],
      ['volumes/data.tar', 'stream'],
    ]);
    expect(JSON.parse((await readItem(repo, snap, 'v1/configmaps/ns/a')).toString()).data.k).toBe('v');
    expect((await readItem(repo, snap, 'empty')).length).toBe(0);
    const chunks: Buffer[] = [];
    for await (const c of await restoreItemStream(repo, snap, 'volumes/data.tar')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(large)).toBe(true);
  });
});

describe('repository open', () => {
  it('opens with the right password, refuses a wrong one with a clear error', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage, 'correct horse');
    await backup(repo, { documents: [{ name: 'x', data: 'hello' }] }, { saver: { workers: 0 } });
    const again = await Repository.open(storage, 'correct horse');
    expect((await listSnapshots(again)).length).toBe(1);
    await expect(Repository.open(storage, 'wrong')).rejects.toThrow(/wrong password/);
  });

  it('says when there is no repository', async () => {
    await expect(Repository.open(new MemoryStorage(), 'x')).rejects.toThrow(/no repository/);
  });
});

describe('unreadable input', () => {
  it('a file that cannot be read fails its job with EREAD (the backup turns it into a warning)', async () => {
    const repo = await initTestRepo();
    const saver = repo.newSaver({ workers: 0 });
    await expect(saver.saveFile('/nonexistent/file', 10)).rejects.toMatchObject({ code: 'EREAD' });
    await saver.close();
  });

  it('refuses to back up nothing, or a path that is not a directory', async () => {
    const repo = await initTestRepo();
    await expect(backup(repo, {})).rejects.toThrow(/nothing to back up/);
    await expect(backup(repo, { directory: '/nonexistent-dir' }, { saver: { workers: 0 } })).rejects.toThrow(/no such directory/);
  });
});
