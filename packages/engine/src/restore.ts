/**
 * Restore: a snapshot's tree into a directory (pack-ordered: each pack is read once, its blobs
 * written to every place they belong), or a named item as a stream or a buffer. Every blob is
 * authenticated and id-checked before a byte of it is written: corruption stops the restore with
 * an IntegrityError instead of producing a wrong file.
 */
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { EngineError, IntegrityError, UsageError } from './errors.js';
import { loadItems } from './item-list.js';
import { packKey } from './pack.js';
import { Progress } from './progress.js';
import type { Repository } from './repository.js';
import { findSnapshot } from './snapshots.js';
import type { IndexEntry, NamedItem, ProgressListener, Snapshot, Tree, TreeNode } from './types.js';
import { mapLimit } from './util/concurrency.js';
import type { RestoreFile } from './pipeline/protocol.js';
import { TargetFiles } from './restore-targets.js';
import { treeReader } from './tree-reader.js';
import { RestorePool, type SpanJob } from './pipeline/restore-pool.js';

export interface RestoreOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Only restore paths (relative, `/`-separated) for which this returns true. */
  include?: (path: string, node: TreeNode) => boolean;
  /** Spans of packs (up to 4 MiB each) being restored at once (default: two per worker). */
  concurrency?: number;
  /** Worker threads (default: one per CPU, at most 4; 0 restores on this thread). */
  workers?: number;
  /**
   * Descriptors a worker keeps open at once (default 128); a file written with direct I/O takes
   * two.
   */
  maxOpenFiles?: number;
  /**
   * Write the whole 4 KiB blocks of large writes with direct I/O, bypassing the page cache
   * (default true; Linux only; ignored where the file system refuses it). See
   * pipeline/file-writes.ts.
   */
  directWrites?: boolean;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  bytes: number;
}

/** Spans ahead of the one being restored whose files are created already. */
const CREATE_AHEAD = 4;
const WRITE_NOFOLLOW = constants.O_WRONLY | constants.O_NOFOLLOW;

interface FileTarget {
  path: string;
  node: TreeNode;
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
  mkdirSync(root, { recursive: true });
  const progress = new Progress('restore', options.onProgress);
  const files: FileTarget[] = [];
  const dirs: Array<{ path: string; node: TreeNode }> = [];

  // Workers start while the trees are read; a directory's subtrees are read before it is walked.
  const pool = new RestorePool(repo, options.maxOpenFiles ?? 128, options.workers, options.directWrites ?? true);
  const loadTree = treeReader(repo);
  const walk = async (pending: Promise<Tree>, rel: string): Promise<void> => {
    const tree = await pending;
    const subtrees = new Map<string, Promise<Tree>>();
    for (const node of tree.nodes) {
      if (node.type !== 'dir') continue;
      const sub = loadTree(node.subtree!);
      sub.catch(() => {}); // a failure surfaces where the subtree is walked
      subtrees.set(node.name, sub);
    }
    for (const node of tree.nodes) {
      assertSafeName(node.name);
      const relPath = rel ? `${rel}/${node.name}` : node.name;
      if (options.include && node.type !== 'dir' && !options.include(relPath, node)) continue;
      const abs = join(root, relPath);
      if (node.type === 'dir') {
        mkdirSync(abs, { recursive: true });
        dirs.push({ path: abs, node });
        await walk(subtrees.get(node.name)!, relPath);
      } else if (node.type === 'symlink') {
        rmSync(abs, { force: true });
        symlinkSync(node.target ?? '', abs);
        try {
          lutimesSync(abs, node.mtime / 1000, node.mtime / 1000);
        } catch {
          // Not every platform sets a symlink's own times.
        }
      } else {
        files.push({ path: abs, node });
        progress.filesTotal++;
        progress.bytesTotal += node.size;
      }
    }
  };
  try {
    await walk(loadTree(snapshot.tree), '');
    await writeFiles(repo, pool, files, progress, options);
  } finally {
    await pool.close();
  }
  // Deepest directories first, so setting a parent's mtime is not undone by its children.
  for (const { path, node } of dirs.reverse()) {
    chmodSync(path, node.mode);
    utimesSync(path, node.mtime / 1000, node.mtime / 1000);
  }
  progress.finish();
  return { files: files.length, dirs: dirs.length, bytes: progress.bytesDone };
}

/** A span of a pack to restore, and the files it writes. */
interface Span extends SpanJob {
  files: number[];
}

/**
 * Writes all file contents, reading each pack once, span by span: the spans go to worker threads
 * that read, verify and write them (span-writer.ts). Every file is created here first, on the
 * thread pool, a few spans ahead (restore-targets.ts). A file whose blobs all lie in one span is
 * completed (mode, times) by the worker; the few others (large files) are completed here after
 * their last span.
 */
async function writeFiles(
  repo: Repository,
  pool: RestorePool,
  files: FileTarget[],
  progress: Progress,
  options: RestoreOptions,
): Promise<void> {
  const spans = planSpans(repo, files);
  const spanCount = new Array<number>(files.length).fill(0);
  for (const span of spans) for (const f of span.files) spanCount[f]!++;
  const targets: RestoreFile[] = files.map(({ path, node }, i) => ({
    path,
    mode: node.mode,
    mtime: node.mtime,
    finish: spanCount[i] === 1,
  }));
  const created = new TargetFiles(files.map((f) => f.path));
  // Files without content still need to exist (and be truncated).
  const empty = files.flatMap((_, i) => (spanCount[i] === 0 ? [i] : []));
  await created.ensure(empty);
  for (const i of empty) {
    finishFile(files[i]!);
    progress.filesDone++;
  }
  const local = repo.storage.localPath?.bind(repo.storage);
  pool.setFiles(targets);
  const left = spanCount.slice();
  await mapLimit(spans, options.concurrency ?? Math.max(2, pool.size * 2), async (span, k) => {
    if (options.signal?.aborted) throw new EngineError('ECANCELED', 'restore canceled');
    // The files of the spans a little ahead are created while this one is restored; this span's
    // own are queued first (files of one directory are created in turn).
    const mine = created.ensure(span.files);
    const ahead = spans[k + CREATE_AHEAD];
    if (ahead) created.ensure(ahead.files).catch(() => {});
    await mine;
    const { files: spanFiles, ...job } = span;
    const key = packKey(span.packId);
    if (local) job.pack = local(key);
    else {
      // A copy the worker may own: a storage can return views of buffers it keeps.
      const range = { offset: span.offset, length: span.length };
      job.data = new Uint8Array(await repo.storage.get(key, range));
    }
    // Not `bytesDone += await …`: that would add to the value read before the wait, losing the
    // bytes of the spans finished meanwhile.
    const written = await pool.restore(job);
    progress.bytesDone += written;
    for (const f of spanFiles) {
      if (--left[f]! > 0) continue;
      if (spanCount[f]! > 1) finishFile(files[f]!);
      progress.filesDone++;
      progress.currentItem = files[f]!.path;
    }
    progress.tick();
  });
}

/** The spans to read, pack by pack, with every place their blobs go to. */
function planSpans(repo: Repository, files: FileTarget[]): Span[] {
  const byPack = new Map<string, Map<string, { entry: IndexEntry; places: number[] }>>();
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
      slot.places.push(fileNo, offset);
      offset += entry.plainLength;
    }
    if (offset !== node.size) {
      throw new IntegrityError(
        `${files[fileNo]!.path}: blob sizes add up to ${offset}, tree says ${node.size}`,
      );
    }
  });
  const spans: Span[] = [];
  for (const [packId, blobs] of byPack) {
    const slots = [...blobs.values()].sort((a, b) => a.entry.offset - b.entry.offset);
    for (const { start, end, group } of packSpans(slots.map((s) => s.entry))) {
      const spanFiles = new Set<number>();
      const spanBlobs = group.map((entry) => {
        const { places } = blobs.get(entry.id)!;
        for (let p = 0; p < places.length; p += 2) spanFiles.add(places[p]!);
        return {
          id: entry.id,
          offset: entry.offset - start,
          length: entry.length,
          plain: entry.plainLength,
          places,
        };
      });
      spans.push({
        packId,
        offset: start,
        length: end - start,
        blobs: spanBlobs,
        files: [...spanFiles],
      });
    }
  }
  return interleaveFiles(spans);
}

/**
 * Reorders spans so that the spans of one large file are not restored side by side: two workers
 * writing into one file wait for each other (a buffered write holds the file's lock for the whole
 * copy, long when the page cache has to grow). Spans are grouped by the first file they write
 * and taken from the groups in turn; within a group, and for spans of many small files (groups of
 * one), pack order is kept.
 */
export function interleaveFiles<T extends { files: number[] }>(spans: T[]): T[] {
  const groups = new Map<number, T[]>();
  for (const span of spans) {
    const key = span.files[0] ?? -1;
    const group = groups.get(key);
    if (group) group.push(span);
    else groups.set(key, [span]);
  }
  if (groups.size === spans.length) return spans;
  let queues = [...groups.values()];
  const out: T[] = [];
  for (let round = 0; queues.length; round++) {
    for (const queue of queues) out.push(queue[round]!);
    queues = queues.filter((queue) => queue.length > round + 1);
  }
  return out;
}

/** Sets a complete file's mode and times through a descriptor (symlinks are not followed). */
function finishFile({ path, node }: FileTarget): void {
  const fd = openSync(path, WRITE_NOFOLLOW);
  try {
    fchmodSync(fd, node.mode);
    futimesSync(fd, node.mtime / 1000, node.mtime / 1000);
  } finally {
    closeSync(fd);
  }
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
