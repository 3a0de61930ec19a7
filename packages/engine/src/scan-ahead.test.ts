import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backup, startBackupScan } from './backup.js';
import { ScanAhead } from './scan-ahead.js';
import { initTestRepo, tempDirs } from './testing/repo-fixtures.js';

// Counts the backup walk's own directory listings.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return { ...real, readdir: vi.fn(real.readdir) };
});

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

async function tree(): Promise<string> {
  const root = await dirs.make();
  for (const d of ['b', 'a', 'a/z', 'a/y', 'c']) await mkdir(join(root, d));
  for (const [f, n] of [
    ['a/one', 3],
    ['a/z/two', 5],
    ['c/three', 7],
    ['top', 11],
  ] as const)
    await writeFile(join(root, f), Buffer.alloc(n));
  await symlink('top', join(root, 'link'));
  return root;
}

describe('ScanAhead', () => {
  it('counts files and bytes, and hands each listing and stat to the walk once', async () => {
    const root = await tree();
    const totals = { filesTotal: 0, bytesTotal: 0 };
    const scan = new ScanAhead(totals);
    await scan.run(root);
    expect(totals).toEqual({ filesTotal: 4, bytesTotal: 26 });
    expect(scan.takeListing(root)).toEqual(['a', 'b', 'c', 'link', 'top']);
    expect(scan.takeListing(root)).toBeUndefined();
    expect(scan.takeListing(join(root, 'a'))).toEqual(['one', 'y', 'z']);
    expect(scan.takeStat(join(root, 'a', 'z', 'two'))?.size).toBe(5);
    expect(scan.takeStat(join(root, 'a', 'z', 'two'))).toBeUndefined();
    expect(scan.takeStat(join(root, 'link'))?.isSymbolicLink()).toBe(true);
  });

  it('keeps at most `limit` entries, in the order the walk needs them', async () => {
    const root = await tree();
    const scan = new ScanAhead({ filesTotal: 0, bytesTotal: 0 }, undefined, 4);
    await scan.run(root);
    // The root's listing and its first three entries; nothing of what comes later.
    expect(scan.takeListing(root)).toHaveLength(5);
    expect(scan.takeStat(join(root, 'a'))?.isDirectory()).toBe(true);
    expect(scan.takeStat(join(root, 'c'))?.isDirectory()).toBe(true);
    expect(scan.takeStat(join(root, 'link'))).toBeUndefined();
    expect(scan.takeListing(join(root, 'a'))).toBeUndefined();
  });

  it('saves the backup walk from listing again what it read', async () => {
    const root = await tree();
    const repo = await initTestRepo();
    vi.mocked(readdir).mockClear();
    const snap = await backup(repo, { directory: root }, { saver: { workers: 0 } });
    expect(snap.stats.filesTotal).toBe(4);
    expect(snap.stats.dirsTotal).toBe(6);
    expect(readdir).not.toHaveBeenCalled();
  });

  it('starts once, hands its counts over to the totals it reports to, and stops when told', async () => {
    const root = await tree();
    const scan = new ScanAhead({ filesTotal: 0, bytesTotal: 0 });
    const done = scan.start(root);
    expect(scan.start(join(root, 'a'))).toBe(done);
    expect(scan.root).toBe(root);
    await done;
    const progress = { filesTotal: -1, bytesTotal: -1 };
    scan.reportTo(progress);
    expect(progress).toEqual({ filesTotal: 4, bytesTotal: 26 });

    const stopped = new ScanAhead({ filesTotal: 0, bytesTotal: 0 });
    stopped.stop();
    await stopped.start(root);
    expect(stopped.takeListing(root)).toBeUndefined();
  });

  it('started before the backup (while the repository opens), is taken over by it', async () => {
    const root = await tree();
    const early = startBackupScan(root);
    const repo = await initTestRepo();
    vi.mocked(readdir).mockClear();
    const totals: number[] = [];
    const snap = await backup(
      repo,
      { directory: root },
      { saver: { workers: 0 }, scan: early, onProgress: (p) => totals.push(p.filesTotal) },
    );
    expect(snap.stats.filesTotal).toBe(4);
    expect(totals.at(-1)).toBe(4);
    expect(readdir).not.toHaveBeenCalled();
    // The walk took what the early scan read.
    expect((early as ScanAhead).takeListing(root)).toBeUndefined();
    // The same tree as a backup without an early scan.
    const again = await backup(repo, { directory: root }, { saver: { workers: 0 }, parent: false });
    expect(again.tree).toBe(snap.tree);
  });

  it('is not used for another directory than the one backed up, and is stopped', async () => {
    const root = await tree();
    const other = await tree();
    const early = startBackupScan(other);
    const repo = await initTestRepo();
    const snap = await backup(repo, { directory: root }, { saver: { workers: 0 }, scan: early });
    expect(snap.stats.filesTotal).toBe(4);
    // Nothing of the early scan was taken, and it was stopped.
    expect((early as ScanAhead).takeListing(other)).toBeDefined();
    expect((early as ScanAhead).stopped).toBe(true);
  });

  it('stops the scans of a backup that fails', async () => {
    const root = await tree();
    const early = startBackupScan(root);
    const repo = await initTestRepo();
    const failing = {
      name: 'bad',
      stream: (async function* () {
        yield Buffer.from('x');
        throw new Error('stream broke');
      })(),
    };
    await expect(
      backup(repo, { directory: root, streams: [failing] }, { saver: { workers: 0 }, scan: early }),
    ).rejects.toThrow(/stream broke/);
    expect((early as ScanAhead).stopped).toBe(true);
  });
});
