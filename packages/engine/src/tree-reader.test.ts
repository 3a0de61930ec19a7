import { afterEach, describe, expect, it, vi } from 'vitest';
import { rm } from 'node:fs/promises';
import { backup } from './backup.js';
import { IntegrityError, NotFoundError } from './errors.js';
import { packKey } from './pack.js';
import { LocalStorage } from './storage/local.js';
import { MemoryStorage } from './storage/memory.js';
import { initTestRepo, tempDirs, writeRandomTree } from './testing/repo-fixtures.js';
import { treeReader } from './tree-reader.js';

const dirs = tempDirs();
afterEach(async () => {
  vi.restoreAllMocks();
  await dirs.cleanup();
});

async function snapshotIn(storage: LocalStorage | MemoryStorage) {
  const src = await dirs.make();
  await writeRandomTree(src, 7, { files: 12 });
  const repo = await initTestRepo(storage);
  const snap = await backup(repo, { directory: src }, { saver: { workers: 0 } });
  return { repo, root: snap.tree! };
}

describe('treeReader', () => {
  it('reads the trees of a directory repository without the storage’s asynchronous get', async () => {
    const storage = new LocalStorage(await dirs.make());
    const { repo, root } = await snapshotIn(storage);
    const get = vi.spyOn(storage, 'get');
    const read = treeReader(repo);
    const tree = await read(root);
    expect(get).not.toHaveBeenCalled();
    get.mockRestore();
    expect(tree).toEqual(await repo.loadTree(root));
    expect(tree.nodes.length).toBeGreaterThan(0);
  });

  it('reads other storages through the repository', async () => {
    const storage = new MemoryStorage();
    const { repo, root } = await snapshotIn(storage);
    const get = vi.spyOn(storage, 'get');
    expect(await treeReader(repo)(root)).toEqual(await repo.loadTree(root));
    expect(get).toHaveBeenCalled();
  });

  it('refuses a corrupted tree, and reports a missing pack as loadTree does', async () => {
    const storage = new LocalStorage(await dirs.make());
    const { repo, root } = await snapshotIn(storage);
    const entry = repo.index.get(root)!;
    const key = packKey(entry.pack);
    const pack = Buffer.from(await storage.get(key));
    pack[entry.offset + 20]! ^= 1;
    await storage.put(key, pack);
    await expect(treeReader(repo)(root)).rejects.toThrow(IntegrityError);
    await rm(storage.localPath(key));
    await expect(treeReader(repo)(root)).rejects.toThrow(NotFoundError);
  });
});
