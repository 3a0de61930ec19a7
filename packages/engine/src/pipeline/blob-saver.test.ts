import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backup } from '../backup.js';
import { check } from '../check.js';
import { packIdFromKey } from '../pack.js';
import { Repository } from '../repository.js';
import { readItem, restoreDirectory } from '../restore.js';
import { LocalStorage } from '../storage/local.js';
import { MemoryStorage } from '../storage/memory.js';
import { listAll } from '../testing/conformance.js';
import type { Storage } from '../storage/types.js';
import { initTestRepo, randomBytesSeeded, readTree, tempDirs } from '../testing/repo-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** Memory storage whose puts take a while (uploads slower than chunking). */
function slowStorage(ms: number): Storage {
  const inner = new MemoryStorage();
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, data: Uint8Array) => {
          await new Promise((r) => setTimeout(r, ms));
          return target.put(key, data);
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

async function* pieces(data: Buffer, size: number) {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe.each([
  { name: 'inline', workers: 0 },
  { name: 'worker threads', workers: 2 },
])('blob saver ($name)', ({ workers }) => {
  it('cuts a stream where it cuts the same bytes read from a file, whatever the piece sizes', async () => {
    const data = randomBytesSeeded((9 << 20) + 12_345, 21);
    const src = await dirs.make();
    await writeFile(join(src, 'f.bin'), data);
    const repo = await initTestRepo();
    const file = await backup(repo, { directory: src }, { saver: { workers } });
    const streams = await backup(
      repo,
      {
        streams: [
          { name: 'odd', stream: pieces(data, 77_777) },
          { name: 'large', stream: pieces(data, 5 << 20) },
          { name: 'whole', stream: pieces(data, data.length) },
        ],
      },
      { saver: { workers } },
    );
    expect(file.stats.blobsAdded).toBeGreaterThan(9 * 4);
    // Same cut points, so the same blobs: nothing new to store.
    expect(streams.stats.blobsAdded).toBe(0);
    expect(streams.stats.blobsTotal).toBe(3 * file.stats.blobsTotal);
    for (const name of ['odd', 'large', 'whole'])
      expect((await readItem(repo, streams, name)).equals(data), name).toBe(true);
  });

  it('stores content shared by many small files once, and restores every file', async () => {
    const src = await dirs.make();
    // Shorter than the minimum chunk: one blob, whatever the repository's cut points.
    const shared = randomBytesSeeded(16_000, 5);
    for (let i = 0; i < 300; i++) {
      const own = i % 3 === 0 ? shared : randomBytesSeeded(1 + ((i * 997) % 70_000), 100 + i);
      await writeFile(join(src, `f${i}`), own);
    }
    const repo = await initTestRepo(new MemoryStorage(), 'pw', { packSize: 512 * 1024 });
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    expect(snap.stats.blobsTotal).toBeGreaterThanOrEqual(300);
    expect(snap.stats.blobsAdded).toBe(snap.stats.blobsTotal - 99);
    const out = await dirs.make();
    await restoreDirectory(repo, snap, out);
    const [a, b] = [await readTree(src), await readTree(out)];
    for (const [p, e] of a) expect(b.get(p)?.data?.equals(e.data!), p).toBe(true);
    expect((await check(repo, { readData: true })).errors).toEqual([]);
  });

  it('keeps going when uploads are slower than chunking (verdicts held back), small packs', async () => {
    const src = await dirs.make();
    const files = [randomBytesSeeded(12 << 20, 1), randomBytesSeeded(3 << 20, 2)];
    await writeFile(join(src, 'a'), files[0]!);
    await writeFile(join(src, 'b'), files[1]!);
    const repo = await initTestRepo(slowStorage(15), 'pw', { packSize: 256 * 1024 });
    const snap = await backup(
      repo,
      { directory: src },
      { saver: { workers, uploadConcurrency: 1, maxInFlightBytes: 1 << 20 } },
    );
    expect(snap.stats.bytesAdded).toBe(15 << 20);
    const out = await dirs.make();
    await restoreDirectory(repo, snap, out);
    const tree = await readTree(out);
    expect(tree.get('a')!.data!.equals(files[0]!)).toBe(true);
    expect(tree.get('b')!.data!.equals(files[1]!)).toBe(true);
  });

  it('a stream that fails mid-way fails the backup; the repository stays consistent', async () => {
    const repo = await initTestRepo();
    const data = randomBytesSeeded(6 << 20, 9);
    async function* failing() {
      yield* pieces(data.subarray(0, 5 << 20), 1 << 20);
      throw new Error('producer died');
    }
    await expect(
      backup(
        repo,
        {
          streams: [
            { name: 'bad', stream: failing() },
            { name: 'good', stream: pieces(data, 1 << 20) },
          ],
        },
        { saver: { workers } },
      ),
    ).rejects.toThrow('producer died');
    // The next backup works, and whatever the failed one uploaded is consistent.
    const snap = await backup(
      repo,
      { streams: [{ name: 'good', stream: pieces(data, 1 << 20) }] },
      { saver: { workers } },
    );
    expect((await readItem(repo, snap, 'good')).equals(data)).toBe(true);
    expect((await check(repo, { readData: true })).errors).toEqual([]);
  });
});

/** A source tree of large and small files, random bytes. */
async function mixedTree(seed: number): Promise<string> {
  const src = await dirs.make();
  await writeFile(join(src, 'big'), randomBytesSeeded((5 << 20) + 777, seed));
  await mkdir(join(src, 'small'));
  for (let i = 0; i < 60; i++)
    await writeFile(join(src, 'small', `f${i}`), randomBytesSeeded(1 + i * 3001, seed + i + 1));
  return src;
}

async function expectRestores(
  repo: Repository,
  snap: Awaited<ReturnType<typeof backup>>,
  src: string,
) {
  const out = await dirs.make();
  await restoreDirectory(repo, snap, out);
  const [a, b] = [await readTree(src), await readTree(out)];
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [p, e] of a) if (e.data) expect(b.get(p)?.data?.equals(e.data), p).toBe(true);
}

describe.each([
  { name: 'inline', workers: 0 },
  { name: 'worker threads', workers: 2 },
])('directory repository: the workers store their packs ($name)', ({ workers }) => {
  it('writes data packs itself (the main thread only trees, index and snapshot)', async () => {
    const src = await mixedTree(30);
    const storage = new LocalStorage(await dirs.make());
    const repo = await initTestRepo(storage, 'pw', { packSize: 1536 * 1024 });
    const put = vi.spyOn(storage, 'put');
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    const mainPacks = new Set(
      put.mock.calls.map(([key]) => key).filter((key) => key.startsWith('data/')),
    );
    const packs = (await listAll(storage, 'data/')).map((o) => o.key);
    // Data blobs are all in packs the main thread did not write; trees in packs it did.
    for (const entry of repo.index.entries()) {
      const key = packs.find((k) => packIdFromKey(k) === entry.pack)!;
      expect(key, entry.id).toBeDefined();
      expect(mainPacks.has(key), `${entry.type} blob in ${key}`).toBe(entry.type === 'tree');
    }
    expect(packs.length).toBeGreaterThan(mainPacks.size + 2);
    expect(snap.stats.storedBytesAdded).toBeGreaterThan(5 << 20);
    expect((await check(repo, { readData: true })).errors).toEqual([]);
    await expectRestores(repo, snap, src);
  });

  it('a pack it cannot store fails the backup with the storage error; the next backup works', async () => {
    const src = await mixedTree(40);
    // Much more data than a pack: the workers' first packs fail long before the end.
    await writeFile(join(src, 'large'), randomBytesSeeded(24 << 20, 41));
    const root = await dirs.make();
    const storage = new LocalStorage(root);
    const repo = await initTestRepo(storage, 'pw', { packSize: 1 << 20 });
    // Files where the pack directories go: no pack can be written.
    await mkdir(join(root, 'data'));
    const hex = [...Array(256).keys()].map((n) => n.toString(16).padStart(2, '0'));
    for (const h of hex) await writeFile(join(root, 'data', h), '');
    const put = vi.spyOn(storage, 'put');
    const failed = await backup(repo, { directory: src }, { saver: { workers } }).catch(
      (err: unknown) => err,
    );
    expect(failed).toMatchObject({
      code: 'ECONFLICT',
      message: expect.stringMatching(/^cannot write data\//),
    });
    // A worker's pack failed the backup (mid-way), not the main thread's tree pack (at the end):
    // the main thread never got to write its tree pack.
    const key = /^cannot write (\S+)/.exec((failed as Error).message)![1];
    expect(put.mock.calls.map(([k]) => k)).not.toContain(key);
    expect(put.mock.calls.filter(([k]) => k.startsWith('data/'))).toEqual([]);
    put.mockRestore();
    expect((failed as Error).message).not.toMatch(/chunk worker/);
    for (const h of hex) await rm(join(root, 'data', h));
    const snap = await backup(repo, { directory: src }, { saver: { workers } });
    expect((await check(repo, { readData: true })).errors).toEqual([]);
    await expectRestores(repo, snap, src);
  });

  it('a worker that cannot start fails the backup (no wait for its answers)', async () => {
    const storage = new LocalStorage(await dirs.make());
    const repo = await initTestRepo(storage, 'pw');
    // Chunker parameters a worker refuses (the repository's own are checked when it opens).
    (repo.config.chunker as { avgSize: number }).avgSize = 3;
    const src = await mixedTree(60);
    await expect(backup(repo, { directory: src }, { saver: { workers } })).rejects.toThrow(
      /avgSize|average|power of two/i,
    );
  });

  it('a canceled backup leaves only indexed packs, which the next backup reuses', async () => {
    const src = await dirs.make();
    for (let i = 0; i < 12; i++)
      await writeFile(join(src, `f${i}`), randomBytesSeeded(2 << 20, 50 + i));
    const storage = new LocalStorage(await dirs.make());
    const repo = await initTestRepo(storage, 'pw', { packSize: 512 * 1024 });
    // Canceled once the first packs are indexed: the walk is a few files in.
    const controller = new AbortController();
    const put = storage.put.bind(storage);
    vi.spyOn(storage, 'put').mockImplementation(async (key, data) => {
      await put(key, data);
      if (key.startsWith('index/')) controller.abort();
    });
    const canceled = backup(
      repo,
      { directory: src },
      {
        saver: { workers, indexEveryPacks: 1 },
        signal: controller.signal,
        fileConcurrency: 2,
      },
    );
    await expect(canceled).rejects.toMatchObject({ code: 'ECANCELED' });
    vi.restoreAllMocks();
    const reopened = await Repository.open(storage, 'pw');
    const packIds = (await listAll(storage, 'data/')).map((o) => packIdFromKey(o.key));
    expect(packIds.length).toBeGreaterThan(0);
    const indexed = new Set(reopened.index.packIds());
    expect(packIds.filter((id) => !indexed.has(id))).toEqual([]);
    const snap = await backup(reopened, { directory: src }, { saver: { workers } });
    expect(snap.stats.blobsAdded).toBeLessThan(snap.stats.blobsTotal);
    expect((await check(reopened, { readData: true })).errors).toEqual([]);
    await expectRestores(reopened, snap, src);
    await reopened.close();
  });
});
