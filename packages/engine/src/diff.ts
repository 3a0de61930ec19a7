/** diff: what changed between two snapshots, by path (files) and by name (items). */
import type { Repository } from './repository.js';
import { loadItems } from './item-list.js';
import type { NamedItem, Snapshot, TreeNode } from './types.js';

export type ChangeKind = 'added' | 'removed' | 'modified' | 'metadata';

export interface DiffEntry {
  path: string;
  change: ChangeKind;
  /** file, dir, symlink, document or stream */
  type: string;
  sizeBefore?: number;
  sizeAfter?: number;
}

export interface DiffReport {
  entries: DiffEntry[];
  added: number;
  removed: number;
  modified: number;
  bytesAdded: number;
  bytesRemoved: number;
}

export async function diffSnapshots(
  repo: Repository,
  a: Snapshot,
  b: Snapshot,
): Promise<DiffReport> {
  const entries: DiffEntry[] = [];
  await diffTrees(repo, a.tree, b.tree, '', entries);
  diffItems(
    a.items ? await loadItems(repo, a.items) : [],
    b.items ? await loadItems(repo, b.items) : [],
    entries,
  );
  const report: DiffReport = {
    entries,
    added: 0,
    removed: 0,
    modified: 0,
    bytesAdded: 0,
    bytesRemoved: 0,
  };
  for (const e of entries) {
    if (e.change === 'added') report.added++;
    else if (e.change === 'removed') report.removed++;
    else report.modified++;
    report.bytesAdded += Math.max(0, (e.sizeAfter ?? 0) - (e.sizeBefore ?? 0));
    report.bytesRemoved += Math.max(0, (e.sizeBefore ?? 0) - (e.sizeAfter ?? 0));
  }
  return report;
}

async function diffTrees(
  repo: Repository,
  a: string | undefined,
  b: string | undefined,
  prefix: string,
  out: DiffEntry[],
) {
  if (a === b) return; // identical subtrees have identical ids
  const before = new Map((a ? (await repo.loadTree(a)).nodes : []).map((n) => [n.name, n]));
  const after = new Map((b ? (await repo.loadTree(b)).nodes : []).map((n) => [n.name, n]));
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const name of names) {
    const x = before.get(name);
    const y = after.get(name);
    const path = prefix + name;
    if (x?.type === 'dir' || y?.type === 'dir') {
      if (x && y && x.type === y.type) {
        await diffTrees(repo, x.subtree, y.subtree, `${path}/`, out);
        continue;
      }
    }
    if (!x) out.push({ path, change: 'added', type: y!.type, sizeAfter: y!.size });
    else if (!y) out.push({ path, change: 'removed', type: x.type, sizeBefore: x.size });
    else if (contentChanged(x, y))
      out.push({ path, change: 'modified', type: y.type, sizeBefore: x.size, sizeAfter: y.size });
    else if (x.mode !== y.mode || x.mtime !== y.mtime)
      out.push({ path, change: 'metadata', type: y.type, sizeBefore: x.size, sizeAfter: y.size });
  }
}

function contentChanged(x: TreeNode, y: TreeNode): boolean {
  return (
    x.type !== y.type ||
    x.target !== y.target ||
    (x.content ?? []).join() !== (y.content ?? []).join()
  );
}

function diffItems(a: NamedItem[], b: NamedItem[], out: DiffEntry[]) {
  const before = new Map(a.map((i) => [i.name, i]));
  const after = new Map(b.map((i) => [i.name, i]));
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const x = before.get(name);
    const y = after.get(name);
    if (!x) out.push({ path: name, change: 'added', type: y!.kind, sizeAfter: y!.size });
    else if (!y) out.push({ path: name, change: 'removed', type: x.kind, sizeBefore: x.size });
    else if (x.content.join() !== y.content.join()) {
      out.push({
        path: name,
        change: 'modified',
        type: y.kind,
        sizeBefore: x.size,
        sizeAfter: y.size,
      });
    }
  }
}
