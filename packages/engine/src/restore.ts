/**
 * Restore: a snapshot's tree into a directory (pack-ordered: each pack is read once, its blobs
 * written to every place they belong), or a named item as a stream or a buffer. Every blob is
 * authenticated and id-checked before a byte of it is written: corruption stops the restore with
 * an IntegrityError instead of producing a wrong file.
 */
import { constants } from 'node:fs';
import {
  mkdir,
  open as openFile,
  rm,
  symlink,
  utimes,
  chmod,
  lutimes,
  type FileHandle,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { EngineError, IntegrityError, UsageError } from './errors.js';
import { loadItems } from './item-list.js';
import { packKey } from './pack.js';
import { Progress } from './progress.js';
import type { Repository } from './repository.js';
import { findSnapshot } from './snapshots.js';
import type { IndexEntry, NamedItem, ProgressListener, Snapshot, TreeNode } from './types.js';
import { mapLimit } from './util/concurrency.js';
import { DecodePool } from './pipeline/decode-pool.js';

export interface RestoreOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Only restore paths (relative, `/`-separated) for which this returns true. */
  include?: (path: string, node: TreeNode) => boolean;
  /** Packs read at once (default 3). */
  concurrency?: number;
  /** Decode worker threads (default: one per CPU, at most 4; 0 decodes on this thread). */
  workers?: number;
  /** Files kept open at once (default 128). */
  maxOpenFiles?: number;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  bytes: number;
}

const CREATE_NOFOLLOW =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

interface FileTarget {
  path: string;
  node: TreeNode;
}

interface Placement {
  file: number;
  offset: number;
}

/** Makes sure a name read from the repository cannot escape the restore target. */
export function assertSafeName(name: string): void {
  if (!name || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new IntegrityError(`unsafe file name in snapshot: ${JSON.stringify(name)}`);
  }
}

async function resolveSnapshot(repo: Repository, snapshot: Snapshot | string): Promise<Snapshot> {
  return typeof snapshot === 'string' ? findSnapshot(repo, snapshot) : snapshot;
}

export async function restoreDirectory(
  repo: Repository,
  snapshotRef: Snapshot | string,
  target: string,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const snapshot = await resolveSnapshot(repo, snapshotRef);
  if (!snapshot.tree)
    throw new UsageError(`snapshot ${snapshot.id.slice(0, 8)} holds no directory tree`);
  const root = resolve(target);
  await mkdir(root, { recursive: true });
  const progress = new Progress('restore', options.onProgress);
  const files: FileTarget[] = [];
  const dirs: Array<{ path: string; node: TreeNode }> = [];

  const walk = async (treeId: string, rel: string): Promise<void> => {
    const tree = await repo.loadTree(treeId);
    for (const node of tree.nodes) {
      assertSafeName(node.name);
      const relPath = rel ? `${rel}/${node.name}` : node.name;
      if (options.include && node.type !== 'dir' && !options.include(relPath, node)) continue;
      const abs = join(root, relPath);
      if (node.type === 'dir') {
        await mkdir(abs, { recursive: true });
        dirs.push({ path: abs, node });
        await walk(node.subtree!, relPath);
      } else if (node.type === 'symlink') {
        await rm(abs, { force: true });
        await symlink(node.target ?? '', abs);
        await lutimes(abs, node.mtime / 1000, node.mtime / 1000).catch(() => {});
      } else {
        files.push({ path: abs, node });
        progress.filesTotal++;
        progress.bytesTotal += node.size;
      }
    }
  };
  await walk(snapshot.tree, '');

  await writeFiles(repo, files, progress, options);
  // Deepest directories first, so setting a parent's mtime is not undone by its children.
  for (const { path, node } of dirs.reverse()) {
    await chmod(path, node.mode);
    await utimes(path, node.mtime / 1000, node.mtime / 1000);
  }
  progress.finish();
  return { files: files.length, dirs: dirs.length, bytes: progress.bytesDone };
}

/** Writes all file contents, reading each pack once. */
async function writeFiles(
  repo: Repository,
  files: FileTarget[],
  progress: Progress,
  options: RestoreOptions,
): Promise<void> {
  const byPack = new Map<string, Map<string, { entry: IndexEntry; places: Placement[] }>>();
  files.forEach(({ node }, fileNo) => {
    let offset = 0;
    for (const id of node.content ?? []) {
      const entry = repo.index.get(id);
      if (!entry)
        throw new IntegrityError(
          `blob ${id} of ${files[fileNo]!.path} is missing from the repository`,
        );
      let blobs = byPack.get(entry.pack);
      if (!blobs) byPack.set(entry.pack, (blobs = new Map()));
      let slot = blobs.get(id);
      if (!slot) blobs.set(id, (slot = { entry, places: [] }));
      slot.places.push({ file: fileNo, offset });
      offset += entry.plainLength;
    }
    if (offset !== node.size) {
      throw new IntegrityError(
        `${files[fileNo]!.path}: blob sizes add up to ${offset}, tree says ${node.size}`,
      );
    }
  });

  const handles = new HandleCache(files, options.maxOpenFiles ?? 128);
  const pool = new DecodePool(repo, options.workers);
  try {
    // Files without content still need to exist (and be truncated).
    for (let i = 0; i < files.length; i++) {
      if (!files[i]!.node.content?.length) {
        await handles.use(i, async () => {});
        await handles.finish(i);
        progress.filesDone++;
      }
    }
    const remaining = files.map((f) => f.node.content?.length ?? 0);
    await mapLimit([...byPack], options.concurrency ?? 3, async ([packId, blobs]) => {
      if (options.signal?.aborted) throw new EngineError('ECANCELED', 'restore canceled');
      const slots = [...blobs.values()].sort((a, b) => a.entry.offset - b.entry.offset);
      for await (const decoded of readBlobs(
        repo,
        pool,
        packId,
        slots.map((s) => s.entry),
      )) {
        const placed = decoded.flatMap(({ entry, plain }) =>
          blobs.get(entry.id)!.places.map((place) => ({ ...place, plain })),
        );
        // One vectored write per run of adjacent blobs of a file, the runs of a span at once.
        await Promise.all(
          writeRuns(placed).map(async (run) => {
            await handles.use(run.file, (h) => h.writev(run.buffers, run.offset).then(() => {}));
            progress.bytesDone += run.bytes;
            progress.currentItem = files[run.file]!.path;
            remaining[run.file]! -= run.buffers.length;
            if (remaining[run.file] === 0) {
              progress.filesDone++;
              await handles.finish(run.file);
            }
          }),
        );
        progress.tick();
      }
    });
  } finally {
    await handles.closeAll();
    await pool.close();
  }
}

interface WriteRun {
  file: number;
  offset: number;
  buffers: Uint8Array[];
  bytes: number;
}

/** Groups blob placements into runs of adjacent ranges of one file (at most 1024 buffers each). */
function writeRuns(placed: Array<Placement & { plain: Uint8Array }>): WriteRun[] {
  placed.sort((a, b) => a.file - b.file || a.offset - b.offset);
  const runs: WriteRun[] = [];
  let run: WriteRun | undefined;
  for (const p of placed) {
    if (
      run &&
      run.file === p.file &&
      run.offset + run.bytes === p.offset &&
      run.buffers.length < 1024
    ) {
      run.buffers.push(p.plain);
      run.bytes += p.plain.length;
    } else {
      runs.push(
        (run = { file: p.file, offset: p.offset, buffers: [p.plain], bytes: p.plain.length }),
      );
    }
  }
  return runs;
}

/** The spans of a pack to read: neighbours coalesced into one range when the gaps are small. */
function packSpans(
  entries: IndexEntry[],
): Array<{ start: number; end: number; group: IndexEntry[] }> {
  const MAX_GAP = 256 * 1024;
  const MAX_SPAN = 4 << 20;
  const spans = [];
  let i = 0;
  while (i < entries.length) {
    let j = i + 1;
    const start = entries[i]!.offset;
    let end = start + entries[i]!.length;
    while (
      j < entries.length &&
      entries[j]!.offset - end <= MAX_GAP &&
      entries[j]!.offset + entries[j]!.length - start <= MAX_SPAN
    ) {
      end = Math.max(end, entries[j]!.offset + entries[j]!.length);
      j++;
    }
    spans.push({ start, end, group: entries.slice(i, j) });
    i = j;
  }
  return spans;
}

/**
 * Reads and decodes the given blobs of one pack span by span, the next span already on its way
 * while the caller writes the current one.
 */
async function* readBlobs(
  repo: Repository,
  pool: DecodePool,
  packId: string,
  entries: IndexEntry[],
): AsyncGenerator<Array<{ entry: IndexEntry; plain: Uint8Array }>> {
  const load = ({ start, end, group }: ReturnType<typeof packSpans>[number]) =>
    repo.storage
      .get(packKey(packId), { offset: start, length: end - start })
      .then((span) =>
        pool.decode(
          span,
          group.map((e) => ({ id: e.id, offset: e.offset - start, length: e.length })),
        ),
      )
      .then((plains) => group.map((entry, k) => ({ entry, plain: plains[k]! })));
  const spans = packSpans(entries);
  let next = spans.length ? load(spans[0]!) : undefined;
  for (let i = 0; next; i++) {
    const current = next;
    next = i + 1 < spans.length ? load(spans[i + 1]!) : undefined;
    // A failure of the prefetched span surfaces when it is awaited, not as an unhandled rejection.
    next?.catch(() => {});
    yield await current;
  }
}

/** Open file handles, bounded; a file is created (truncated) the first time it is opened. */
class HandleCache {
  private readonly open = new Map<number, Promise<FileHandle>>();
  private readonly created = new Set<number>();
  private readonly users = new Map<number, number>();
  constructor(
    private readonly files: FileTarget[],
    private readonly limit: number,
  ) {}

  async use<T>(file: number, fn: (h: FileHandle) => Promise<T>): Promise<T> {
    let handle = this.open.get(file);
    if (!handle) {
      // Check-and-set without an await in between: concurrent users share one open.
      const path = this.files[file]!.path;
      const first = !this.created.has(file);
      this.created.add(file);
      // On first open, whatever is in the way (an old file, a symlink) is replaced, never followed.
      handle = first
        ? openFile(path, CREATE_NOFOLLOW, 0o600).catch(() =>
            rm(path, { force: true }).then(() => openFile(path, 'wx', 0o600)),
          )
        : openFile(path, 'r+');
      this.open.set(file, handle);
    }
    // Counted as a user before any await, so nobody evicts the handle from under this write.
    this.users.set(file, (this.users.get(file) ?? 0) + 1);
    try {
      await this.evict(file);
      return await fn(await handle);
    } finally {
      this.users.set(file, this.users.get(file)! - 1);
    }
  }

  /** The file is complete: mode and times are set through the open handle, then it is closed. */
  async finish(file: number): Promise<void> {
    const handle = this.open.get(file);
    if (!handle) return;
    this.open.delete(file);
    const h = await handle;
    const { mode, mtime } = this.files[file]!.node;
    try {
      await h.chmod(mode);
      await h.utimes(mtime / 1000, mtime / 1000);
    } finally {
      await h.close();
    }
  }

  async release(file: number): Promise<void> {
    const handle = this.open.get(file);
    if (!handle || this.users.get(file)) return;
    this.open.delete(file);
    await (await handle).close();
  }

  private async evict(keep: number): Promise<void> {
    if (this.open.size <= this.limit) return;
    for (const file of this.open.keys()) {
      if (file !== keep && !this.users.get(file)) {
        await this.release(file);
        if (this.open.size <= this.limit) return;
      }
    }
  }

  async closeAll(): Promise<void> {
    for (const file of [...this.open.keys()]) {
      const handle = this.open.get(file);
      this.open.delete(file);
      await handle?.then((h) => h.close()).catch(() => {});
    }
  }
}

// ---- named items ----

export async function listItems(
  repo: Repository,
  snapshotRef: Snapshot | string,
): Promise<NamedItem[]> {
  const snapshot = await resolveSnapshot(repo, snapshotRef);
  if (!snapshot.items) return [];
  return loadItems(repo, snapshot.items);
}

async function findItem(
  repo: Repository,
  snapshotRef: Snapshot | string,
  name: string,
): Promise<NamedItem> {
  const items = await listItems(repo, snapshotRef);
  const item = items.find((i) => i.name === name);
  if (!item) throw new UsageError(`no item named ${JSON.stringify(name)} in the snapshot`);
  return item;
}

/** Streams an item's bytes in order, reading a few blobs ahead. */
export function itemStream(repo: Repository, item: NamedItem, readAhead = 8): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    const ids = item.content;
    const queue: Promise<Buffer>[] = [];
    let next = 0;
    while (next < ids.length || queue.length) {
      while (next < ids.length && queue.length < readAhead) {
        const p = repo.loadBlob(ids[next++]!, 'data');
        p.catch(() => {});
        queue.push(p);
      }
      yield await queue.shift()!;
    }
  }
  return Readable.from(generate(), { objectMode: false });
}

export async function restoreItemStream(
  repo: Repository,
  snapshotRef: Snapshot | string,
  name: string,
): Promise<Readable> {
  return itemStream(repo, await findItem(repo, snapshotRef, name));
}

export async function readItem(
  repo: Repository,
  snapshotRef: Snapshot | string,
  name: string,
): Promise<Buffer> {
  const item = await findItem(repo, snapshotRef, name);
  const parts = await mapLimit(item.content, 8, (id) => repo.loadBlob(id, 'data'));
  return Buffer.concat(parts);
}

/** Every document of a snapshot with its bytes, in the order they were saved. */
export async function* readDocuments(
  repo: Repository,
  snapshotRef: Snapshot | string,
): AsyncGenerator<{ item: NamedItem; data: Buffer }> {
  const snapshot = await resolveSnapshot(repo, snapshotRef);
  for (const item of await listItems(repo, snapshot)) {
    if (item.kind !== 'document') continue;
    const parts = await mapLimit(item.content, 8, (id) => repo.loadBlob(id, 'data'));
    yield { item, data: Buffer.concat(parts) };
  }
}
