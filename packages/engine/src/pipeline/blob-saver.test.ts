import { afterEach, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backup } from '../backup.js';
import { check } from '../check.js';
import { readItem, restoreDirectory } from '../restore.js';
import { MemoryStorage } from '../storage/memory.js';
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
