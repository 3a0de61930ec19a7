/**
 * A snapshot's list of named items (docs/format.md, "Item lists"). Up to SPLIT_ABOVE items it is
 * one tree blob `{"items": […]}`. A longer list is cut into groups at content-defined points —
 * after an item whose name's keyed hash ends in six zero bits (≈ 64 items a group, at most
 * MAX_GROUP) — each group a tree blob `{"items": […]}`, listed in order by a top blob
 * `{"itemLists": [ids…]}`. Cut points depend only on names, so a backup of a large namespace in
 * which a few objects changed stores only the groups that hold them, not the whole list again.
 */
import { contentId } from './crypto.js';
import type { Repository } from './repository.js';
import type { NamedItem } from './types.js';
import { mapLimit } from './util/concurrency.js';

const SPLIT_ABOVE = 256;
const MAX_GROUP = 1024;

interface ItemListBlob {
  items?: NamedItem[];
  itemLists?: string[];
}

const encode = (blob: ItemListBlob) => Buffer.from(JSON.stringify(blob));

/** Saves the list through `saveTree` (which stores a tree blob, returning its id). */
export async function saveItemList(
  items: NamedItem[],
  idKey: Buffer,
  saveTree: (data: Buffer) => Promise<string>,
): Promise<string> {
  if (items.length <= SPLIT_ABOVE) return saveTree(encode({ items }));
  const groups: NamedItem[][] = [[]];
  for (const item of items) {
    const group = groups[groups.length - 1]!;
    group.push(item);
    const cut = (parseInt(contentId(idKey, Buffer.from(item.name)).slice(-2), 16) & 0x3f) === 0;
    if (cut || group.length >= MAX_GROUP) groups.push([]);
  }
  if (!groups[groups.length - 1]!.length) groups.pop();
  const itemLists: string[] = [];
  for (const group of groups) itemLists.push(await saveTree(encode({ items: group })));
  return saveTree(encode({ itemLists }));
}

/** The items of a list and every tree blob it is made of (the top blob first). */
export async function readItemList(
  repo: Repository,
  id: string,
): Promise<{ items: NamedItem[]; trees: string[] }> {
  const top = await repo.loadJsonBlob<ItemListBlob>(id);
  if (!top.itemLists) return { items: top.items ?? [], trees: [id] };
  const groups = await mapLimit(top.itemLists, 8, (g) => repo.loadJsonBlob<ItemListBlob>(g));
  return { items: groups.flatMap((g) => g.items ?? []), trees: [id, ...top.itemLists] };
}

export async function loadItems(repo: Repository, id: string): Promise<NamedItem[]> {
  return (await readItemList(repo, id)).items;
}
