/** Walks what snapshots reference: tree blobs (directories, item lists) and data blobs. */
import { readItemList } from './item-list.js';
import type { Repository } from './repository.js';
import type { Snapshot } from './types.js';
import { mapLimit } from './util/concurrency.js';

export interface References {
  trees: Set<string>;
  data: Set<string>;
}

/**
 * Collects every blob the snapshots reference. Each tree is loaded (and so authenticated) once.
 * Throws on the first unreadable tree: callers that delete data must not guess.
 */
export async function collectReferences(
  repo: Repository,
  snapshots: Snapshot[],
): Promise<References> {
  const refs: References = { trees: new Set(), data: new Set() };
  const visitTree = async (id: string): Promise<void> => {
    if (refs.trees.has(id)) return;
    refs.trees.add(id);
    const tree = await repo.loadTree(id);
    for (const node of tree.nodes) for (const c of node.content ?? []) refs.data.add(c);
    await mapLimit(
      tree.nodes.filter((n) => n.subtree),
      8,
      (n) => visitTree(n.subtree!),
    );
  };
  for (const snap of snapshots) {
    if (snap.tree) await visitTree(snap.tree);
    if (snap.items && !refs.trees.has(snap.items)) {
      const { items, trees } = await readItemList(repo, snap.items);
      for (const t of trees) refs.trees.add(t);
      for (const item of items) for (const c of item.content) refs.data.add(c);
    }
  }
  return refs;
}
