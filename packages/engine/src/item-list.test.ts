/**
 * Long item lists (a namespace of thousands of objects): cut into content-defined groups, so an
 * unchanged or slightly changed second backup stores little of the list again; every reader
 * (restore, diff, check, prune, copy) sees the whole list.
 */
import { describe, expect, it } from 'vitest';
import { backup } from './backup.js';
import { check } from './check.js';
import { copySnapshots } from './copy.js';
import { diffSnapshots } from './diff.js';
import { deleteSnapshots } from './forget.js';
import { readItemList } from './item-list.js';
import { prune } from './prune.js';
import { listItems, readItem } from './restore.js';
import { listSnapshots } from './snapshots.js';
import { initTestRepo } from './testing/repo-fixtures.js';

/** Documents like a namespace backup's: many small objects in name order. */
function documents(count: number, changed: Set<number> = new Set()) {
  return Array.from({ length: count }, (_, i) => ({
    name: `resources/core/v1/configmaps/shop/cm-${String(i).padStart(5, '0')}.json`,
    data: JSON.stringify({
      kind: 'ConfigMap',
      metadata: { name: `cm-${i}` },
      data: { v: changed.has(i) ? 'new' : 'old' },
    }),
  }));
}

describe('item lists', () => {
  it('a small list is one blob, a long one a list of groups; all of it reads back in order', async () => {
    const repo = await initTestRepo();
    const small = await backup(repo, { documents: documents(10) }, { saver: { workers: 0 } });
    expect((await readItemList(repo, small.items!)).trees).toHaveLength(1);

    const big = await backup(repo, { documents: documents(5000) }, { saver: { workers: 0 } });
    const { items, trees } = await readItemList(repo, big.items!);
    expect(items.map((i) => i.name)).toEqual(documents(5000).map((d) => d.name));
    // ≈ 64 items a group (content-defined), never more than 1024
    expect(trees.length).toBeGreaterThan(20);
    expect(trees.length).toBeLessThan(300);
    expect((await listItems(repo, big)).length).toBe(5000);
    expect((await readItem(repo, big, items[4321]!.name)).toString()).toBe(
      documents(5000)[4321]!.data,
    );
  });

  it('a second backup with two changed objects stores a few groups, not the whole list', async () => {
    const repo = await initTestRepo();
    const first = await backup(repo, { documents: documents(10_000) }, { saver: { workers: 0 } });
    const second = await backup(
      repo,
      { documents: documents(10_000, new Set([17, 9000])) },
      { saver: { workers: 0 } },
    );
    expect(second.stats.blobsAdded).toBe(2);
    // the list of the first backup, stored, is far larger than what the second one added
    expect(second.stats.storedBytesAdded).toBeLessThan(first.stats.storedBytesAdded / 20);

    const diff = await diffSnapshots(repo, first, second);
    expect(diff.entries.filter((e) => e.change === 'modified').map((e) => e.path)).toEqual([
      documents(1)[0]!.name.replace('00000', '00017'),
      documents(1)[0]!.name.replace('00000', '09000'),
    ]);
  });

  it('check, prune and copy follow every group', async () => {
    const repo = await initTestRepo();
    const keep = await backup(repo, { documents: documents(3000) }, { saver: { workers: 0 } });
    const gone = await backup(
      repo,
      { documents: documents(3000, new Set([5])) },
      { saver: { workers: 0 } },
    );
    await deleteSnapshots(repo, [gone.id]);
    await prune(repo);
    const report = await check(repo, { readData: true });
    expect(report.errors).toEqual([]);
    expect((await listItems(repo, keep)).length).toBe(3000);

    const dst = await initTestRepo();
    await copySnapshots(repo, dst);
    const [copied] = await listSnapshots(dst);
    const { items, trees } = await readItemList(dst, copied!.items!);
    expect(items.map((i) => i.name)).toEqual(documents(3000).map((d) => d.name));
    expect(trees.length).toBeGreaterThan(10);
    expect((await check(dst, { readData: true })).errors).toEqual([]);
  });
});
