/**
 * copy: snapshots from one repository to another (disaster recovery). Blobs the destination
 * already has are not sent. When both repositories share an identity (see InitOptions
 * `identityFrom`), blob ids are equal and such blobs are not even read from the source;
 * otherwise every referenced blob is read once to compute its id in the destination.
 */
import { withRepoLock } from './op-lock.js';
import { Progress } from './progress.js';
import type { Repository } from './repository.js';
import { loadItems, saveItemList } from './item-list.js';
import { findSnapshot, listSnapshots, saveSnapshot } from './snapshots.js';
import type { NamedItem, ProgressListener, Tree } from './types.js';
import type { BlobSaver } from './pipeline/blob-saver.js';

export interface CopyOptions {
  /** Snapshot ids or prefixes; default: all. */
  snapshots?: string[];
  onProgress?: ProgressListener;
}

export interface CopyReport {
  copied: Array<{ source: string; destination: string }>;
  /** Source snapshots the destination already has (copied earlier). */
  skipped: string[];
  blobsCopied: number;
  bytesCopied: number;
  /** Bytes written to the destination's storage. */
  storedBytes: number;
}

export async function copySnapshots(
  src: Repository,
  dst: Repository,
  options: CopyOptions = {},
): Promise<CopyReport> {
  return withRepoLock(src, 'shared', () =>
    withRepoLock(dst, 'shared', () => runCopy(src, dst, options)),
  );
}

async function runCopy(
  src: Repository,
  dst: Repository,
  options: CopyOptions,
): Promise<CopyReport> {
  const selected = options.snapshots?.length
    ? await Promise.all(options.snapshots.map((ref) => findSnapshot(src, ref)))
    : await listSnapshots(src);
  const present = new Set((await listSnapshots(dst)).map((s) => s.original ?? s.id));
  const report: CopyReport = {
    copied: [],
    skipped: [],
    blobsCopied: 0,
    bytesCopied: 0,
    storedBytes: 0,
  };
  const progress = new Progress('copy', options.onProgress);
  progress.filesTotal = selected.length;
  const sameIds = src.config.identity.idKey === dst.config.identity.idKey;
  const saver = dst.newSaver({ workers: 0 });
  const copier = new BlobCopier(src, saver, sameIds, progress, dst.keys.id);
  try {
    for (const snap of selected) {
      const origin = snap.original ?? snap.id;
      if (present.has(origin)) {
        report.skipped.push(snap.id);
        continue;
      }
      const tree = snap.tree ? await copier.tree(snap.tree) : undefined;
      const items = snap.items ? await copier.items(snap.items) : undefined;
      await saver.flush();
      const { id: _drop, ...rest } = snap;
      const copy = await saveSnapshot(dst, {
        ...rest,
        ...(tree ? { tree } : {}),
        ...(items ? { items } : {}),
        parent: undefined,
        original: origin,
      });
      present.add(origin);
      report.copied.push({ source: snap.id, destination: copy.id });
      progress.filesDone++;
      progress.tick();
    }
    await saver.close();
  } catch (err) {
    await saver.abort();
    throw err;
  }
  report.blobsCopied = saver.stats.blobsAdded + saver.stats.treeBlobsAdded;
  report.bytesCopied = saver.stats.bytesAdded + saver.stats.treeBytesAdded;
  report.storedBytes = saver.stats.storedBytesAdded;
  progress.finish();
  return report;
}

/** Copies blobs, mapping source ids to destination ids (identical when the identity is shared). */
class BlobCopier {
  private readonly mapped = new Map<string, string>();

  constructor(
    private readonly src: Repository,
    private readonly saver: BlobSaver,
    private readonly sameIds: boolean,
    private readonly progress: Progress,
    private readonly dstIdKey: Buffer,
  ) {}

  async data(id: string): Promise<string> {
    const known = this.mapped.get(id);
    if (known) return known;
    if (this.sameIds && this.saver.has(id)) {
      this.mapped.set(id, id);
      return id;
    }
    const plain = await this.src.loadBlob(id, 'data');
    const newId = await this.saver.saveBlob('data', plain);
    this.mapped.set(id, newId);
    this.progress.bytesDone += plain.length;
    return newId;
  }

  async content(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) out.push(await this.data(id));
    return out;
  }

  async tree(id: string): Promise<string> {
    const known = this.mapped.get(id);
    if (known) return known;
    if (this.sameIds && this.saver.has(id)) return id; // a stored tree implies its subtree and data
    const tree = await this.src.loadTree(id);
    const nodes = [];
    for (const node of tree.nodes) {
      nodes.push({
        ...node,
        ...(node.content ? { content: await this.content(node.content) } : {}),
        ...(node.subtree ? { subtree: await this.tree(node.subtree) } : {}),
      });
    }
    const newId = await this.saver.saveBlob(
      'tree',
      Buffer.from(JSON.stringify({ nodes } satisfies Tree)),
    );
    this.mapped.set(id, newId);
    return newId;
  }

  async items(id: string): Promise<string> {
    const items: NamedItem[] = [];
    for (const item of await loadItems(this.src, id))
      items.push({ ...item, content: await this.content(item.content) });
    return saveItemList(items, this.dstIdKey, (b) => this.saver.saveBlob('tree', b));
  }
}
