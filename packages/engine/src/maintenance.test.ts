import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFile, rm } from 'node:fs/promises';
import { backup } from './backup.js';
import { check } from './check.js';
import { copySnapshots } from './copy.js';
import { diffSnapshots } from './diff.js';
import { forget } from './forget.js';
import { prune } from './prune.js';
import { restoreDirectory, readItem } from './restore.js';
import { listSnapshots } from './snapshots.js';
import { acquireLock } from './lock.js';
import { Repository } from './repository.js';
import { MemoryStorage } from './storage/memory.js';
import { FaultyStorage } from './testing/faulty.js';
import { initTestRepo, randomBytesSeeded, readTree, tempDirs, writeRandomTree } from './testing/repo-fixtures.js';
import type { Storage } from './storage/types.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());
const dir = () => dirs.make();
const opts = { saver: { workers: 0 } };

async function keysUnder(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** Flips one byte of a stored object in place. */
async function corrupt(storage: Storage, key: string, at = 40): Promise<void> {
  const data = Buffer.from(await storage.get(key));
  data[Math.min(at, data.length - 1)]! ^= 0xff;
  await storage.put(key, data);
}

describe('check', () => {
  it('passes on a healthy repository, with and without reading data', async () => {
    const src = await dir();
    await writeRandomTree(src, 3, { files: 30 });
    const repo = await initTestRepo();
    await backup(repo, { directory: src, documents: [{ name: 'a', data: 'x' }] }, opts);
    const structure = await check(repo);
    expect(structure.errors).toEqual([]);
    expect(structure.ok).toBe(true);
    expect(structure.packsRead).toBe(0);
    const full = await check(repo, { readData: true });
    expect(full.ok).toBe(true);
    expect(full.packsRead).toBe(full.packs);
    const subset = await check(repo, { readDataSubset: '100%' });
    expect(subset.packsRead).toBe(full.packs);
  });

  it('detects a corrupted pack with --read-data, and restore refuses the damaged file', async () => {
    const src = await dir();
    await writeFile(join(src, 'data.bin'), randomBytesSeeded(200_000, 5));
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage);
    const snap = await backup(repo, { directory: src }, opts);
    const packs = await keysUnder(storage, 'data/');
    const dataPack = [...repo.index.entries()].find((e) => e.type === 'data')!.pack;
    await corrupt(storage, packs.find((k) => k.endsWith(dataPack))!, 100);
    expect((await check(repo)).ok).toBe(true); // structure alone does not read blobs
    const report = await check(repo, { readData: true });
    expect(report.ok).toBe(false);
    expect(report.errors.join('\n')).toMatch(/authentication failed/);
    await expect(restoreDirectory(repo, snap, await dir())).rejects.toThrow(/integrity check failed/);
  });

  it('detects corrupted index, snapshot and tree objects', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage);
    const src = await dir();
    await writeRandomTree(src, 9, { files: 5 });
    await backup(repo, { directory: src }, opts);
    const [index] = await keysUnder(storage, 'index/');
    await corrupt(storage, index!);
    expect((await check(repo)).errors.join()).toMatch(/index file/);
  });

  it('detects a damaged snapshot object', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage);
    await backup(repo, { documents: [{ name: 'a', data: 'x' }] }, opts);
    const [snapKey] = await keysUnder(storage, 'snapshots/');
    await corrupt(storage, snapKey!);
    const report = await check(repo);
    expect(report.ok).toBe(false);
    expect(report.errors.join()).toMatch(/snapshot/);
  });

  it('reports a pack missing from storage', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage);
    await backup(repo, { documents: [{ name: 'a', data: randomBytesSeeded(5000, 1) }] }, opts);
    const [pack] = await keysUnder(storage, 'data/');
    await storage.delete(pack!);
    const report = await check(repo);
    expect(report.errors.join()).toMatch(/missing from storage/);
  });
});

describe('forget and prune', () => {
  it('removes forgotten data, repacks, and keeps what is still referenced restorable', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage, 'pw', { packSize: 256 * 1024 });
    const src = await dir();
    const snaps = [];
    for (let day = 0; day < 4; day++) {
      await writeFile(join(src, `day-${day}.bin`), randomBytesSeeded(300_000, 100 + day));
      if (day > 0) await rm(join(src, `day-${day - 1}.bin`));
      snaps.push(await backup(repo, { directory: src }, { ...opts, time: new Date(Date.UTC(2026, 0, 1 + day)) }));
    }
    const dry = await forget(repo, { keepLast: 1 }, { dryRun: true });
    expect(dry.remove.length).toBe(3);
    expect((await listSnapshots(repo)).length).toBe(4);
    const result = await forget(repo, { keepLast: 1 });
    expect(result.keep.map((k) => k.snapshot.id)).toEqual([snaps[3]!.id]);
    expect((await listSnapshots(repo)).length).toBe(1);

    const before = await check(repo);
    expect(before.ok).toBe(true);
    const preview = await prune(repo, { dryRun: true });
    expect(preview.blobsRemoved).toBeGreaterThan(0);
    const report = await prune(repo);
    expect(report.bytesFreed).toBeGreaterThan(800_000);
    expect(report.bytesAfter).toBeLessThan(report.bytesBefore);
    expect((await keysUnder(storage, 'index/')).length).toBe(1);
    const after = await check(repo, { readData: true });
    expect(after.errors).toEqual([]);
    expect(after.warnings).toEqual([]);

    const out = await dir();
    await restoreDirectory(repo, snaps[3]!.id, out);
    expect((await readTree(out)).get('day-3.bin')!.data!.equals(randomBytesSeeded(300_000, 103))).toBe(true);
    // A second prune has nothing to do.
    expect((await prune(repo)).packsDeleted).toBe(0);
  });

  it('is refused while a backup holds the repository lock', async () => {
    const repo = await initTestRepo();
    const lock = await acquireLock(repo, { exclusive: false, refreshMs: 0 });
    await expect(prune(repo)).rejects.toThrow(/lock/i);
    await lock.release();
    await expect(prune(repo)).resolves.toBeTruthy();
  });

  it('survives a crash after the new index is written: superseded index files are ignored', async () => {
    const storage = new MemoryStorage();
    const repo = await initTestRepo(storage);
    await backup(repo, { documents: [{ name: 'a', data: randomBytesSeeded(50_000, 1) }] }, opts);
    const s2 = await backup(repo, { documents: [{ name: 'b', data: randomBytesSeeded(50_000, 2) }] }, opts);
    await forget(repo, { keepLast: 1 });
    // Simulate prune dying right after writing its index: the old index files are still there.
    const oldIndex = await keysUnder(storage, 'index/');
    const saved = await Promise.all(oldIndex.map(async (k) => [k, await storage.get(k)] as const));
    await prune(repo);
    for (const [k, v] of saved) await storage.put(k, v);
    const reopened = await Repository.open(storage, 'test-password');
    expect((await check(reopened)).ok).toBe(true);
    expect((await readItem(reopened, s2.id, 'b')).equals(randomBytesSeeded(50_000, 2))).toBe(true);
  });
});

describe('copy', () => {
  it('copies snapshots to a second repository; only missing blobs travel', async () => {
    const src = await dir();
    await writeRandomTree(src, 21, { files: 20 });
    const a = await initTestRepo();
    const first = await backup(a, { directory: src }, opts);
    await writeFile(join(src, 'new.bin'), randomBytesSeeded(100_000, 77));
    const second = await backup(a, { directory: src }, opts);

    const b = await initTestRepo(new MemoryStorage(), 'other', { identityFrom: a });
    const one = await copySnapshots(a, b, { snapshots: [first.id] });
    expect(one.copied.length).toBe(1);
    const two = await copySnapshots(a, b);
    expect(two.skipped).toEqual([first.id]);
    expect(two.copied.map((c) => c.source)).toEqual([second.id]);
    // Only the new file's data (plus new trees) was sent the second time.
    expect(two.bytesCopied).toBeLessThan(100_000 + 20_000);
    expect(two.bytesCopied).toBeGreaterThanOrEqual(100_000);

    const out = await dir();
    await restoreDirectory(b, two.copied[0]!.destination, out);
    const [x, y] = [await readTree(src), await readTree(out)];
    for (const [path, e] of x) if (e.type === 'file') expect(y.get(path)!.data!.equals(e.data!), path).toBe(true);
    expect((await check(b, { readData: true })).ok).toBe(true);
  });

  it('copies into a repository with its own identity (ids are recomputed)', async () => {
    const a = await initTestRepo();
    const snap = await backup(a, { documents: [{ name: 'doc', data: randomBytesSeeded(300_000, 8) }] }, opts);
    const b = await initTestRepo(new MemoryStorage(), 'other');
    const report = await copySnapshots(a, b);
    const copied = report.copied[0]!.destination;
    expect((await readItem(b, copied, 'doc')).equals(randomBytesSeeded(300_000, 8))).toBe(true);
    expect((await listSnapshots(b))[0]!.original).toBe(snap.id);
  });
});

describe('diff', () => {
  it('lists added, removed and modified paths and items', async () => {
    const src = await dir();
    await writeFile(join(src, 'keep.txt'), 'same');
    await writeFile(join(src, 'change.txt'), 'before');
    await writeFile(join(src, 'gone.txt'), 'bye');
    const repo = await initTestRepo();
    const a = await backup(repo, { directory: src, documents: [{ name: 'cm', data: '1' }] }, opts);
    await writeFile(join(src, 'change.txt'), 'after!');
    await rm(join(src, 'gone.txt'));
    await writeFile(join(src, 'new.txt'), 'hi');
    const b = await backup(repo, { directory: src, documents: [{ name: 'cm', data: '2' }] }, opts);
    const d = await diffSnapshots(repo, a, b);
    const summary = d.entries.map((e) => `${e.change} ${e.path}`);
    expect(summary).toEqual(['modified change.txt', 'removed gone.txt', 'added new.txt', 'modified cm']);
  });
});

describe('robustness', () => {
  it('runs concurrent backups into one repository', async () => {
    const storage = new MemoryStorage();
    const repo1 = await initTestRepo(storage);
    const repo2 = await Repository.open(storage, 'test-password');
    const shared = randomBytesSeeded(400_000, 1);
    const [s1, s2] = await Promise.all([
      backup(repo1, { documents: [{ name: 'x', data: shared }, { name: 'y', data: randomBytesSeeded(100_000, 2) }] }, opts),
      backup(repo2, { documents: [{ name: 'x', data: shared }, { name: 'z', data: randomBytesSeeded(100_000, 3) }] }, opts),
    ]);
    const fresh = await Repository.open(storage, 'test-password');
    expect((await check(fresh, { readData: true })).ok).toBe(true);
    expect((await readItem(fresh, s1.id, 'y')).equals(randomBytesSeeded(100_000, 2))).toBe(true);
    expect((await readItem(fresh, s2.id, 'z')).equals(randomBytesSeeded(100_000, 3))).toBe(true);
    // Duplicate blobs from the race are garbage for prune, not damage.
    await prune(fresh);
    expect((await check(fresh, { readData: true })).ok).toBe(true);
  });

  it('a backup killed halfway leaves a clean repository, and the next backup reuses its uploads', async () => {
    const inner = new MemoryStorage();
    await initTestRepo(inner, "pw", { packSize: 128 * 1024 });
    const data = randomBytesSeeded(3 << 20, 42);
    // Storage starts failing after 12 more writes: the backup dies mid-way.
    const faulty = new FaultyStorage(inner, { failPutAfter: 12 });
    const dying = await Repository.open(faulty, 'pw');
    await expect(
      backup(dying, { documents: [{ name: 'big', data }] }, { saver: { workers: 0, indexEveryPacks: 1 } }),
    ).rejects.toThrow();
    expect(await keysUnder(inner, 'snapshots/')).toEqual([]);

    const after = await Repository.open(inner, 'pw');
    const report = await check(after, { readData: true });
    expect(report.errors).toEqual([]);
    expect(after.index.blobCount).toBeGreaterThan(0);
    // What the dead backup uploaded (and indexed) is not uploaded again: exactly the rest is.
    let uploaded = 0;
    for (const entry of after.index.entries()) if (entry.type === 'data') uploaded += entry.plainLength;
    expect(uploaded).toBeGreaterThan(data.length * 0.1);
    const snap = await backup(after, { documents: [{ name: 'big', data }] }, opts);
    expect(snap.stats.bytesAdded).toBe(data.length - uploaded);
    expect(snap.stats.bytesAdded).toBeLessThan(data.length * 0.8);
    expect((await readItem(after, snap.id, 'big')).equals(data)).toBe(true);
  });
});
