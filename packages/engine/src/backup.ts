/**
 * Backup: a directory tree, named in-memory documents and named streams into one snapshot.
 * Every snapshot is logically full and physically incremental: only blobs the index lacks are
 * written, and files whose size, mtime, ctime and inode match the parent snapshot are not read.
 */
import type { Stats } from 'node:fs';
import { lstatSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EngineError, UsageError } from './errors.js';
import { saveItemList } from './item-list.js';
import { withRepoLock } from './op-lock.js';
import type { BlobSaver, SaverOptions } from './pipeline/blob-saver.js';
import { Progress } from './progress.js';
import { ScanAhead } from './scan-ahead.js';
import type { Repository } from './repository.js';
import { listSnapshots, loadSnapshot, saveSnapshot } from './snapshots.js';
import type { NamedItem, ProgressListener, Snapshot, TreeNode } from './types.js';
import { Semaphore } from './util/concurrency.js';
import { PROGRAM } from './version.js';

export interface NamedDocument {
  name: string;
  data: Uint8Array | string;
  mediaType?: string;
}

export interface NamedStream {
  name: string;
  stream: AsyncIterable<Uint8Array>;
  mediaType?: string;
}

export interface BackupSource {
  /** A directory whose whole tree is saved. */
  directory?: string;
  documents?: Iterable<NamedDocument> | AsyncIterable<NamedDocument>;
  /** Saved concurrently (e.g. one tar stream per volume). */
  streams?: NamedStream[];
}

export interface BackupOptions {
  tags?: string[];
  /** Parent snapshot id; default: the latest one of this host with the same paths; false: none. */
  parent?: string | false;
  /** Time recorded in the snapshot (default: now). */
  time?: Date;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
  saver?: SaverOptions;
  /**
   * Files in flight at once (default 512): small files need many, or the workers wait for the
   * round trips of a few; bytes in flight are bounded on their own (SaverOptions).
   */
  fileConcurrency?: number;
  /**
   * The progress scan of `source.directory`, started early with startBackupScan; the backup
   * takes it over (a scan of another directory is stopped and not used).
   */
  scan?: BackupScan;
}

/** A progress scan started ahead of its backup (startBackupScan). */
export interface BackupScan {
  /** Ends the scan; for when no backup takes it over. */
  stop(): void;
}

/**
 * Starts the progress scan of a directory backup before the backup itself — e.g. while the
 * repository opens, whose key derivation leaves this thread idle for a while. Pass it to `backup`
 * as `options.scan`, or stop it if no backup follows.
 */
export function startBackupScan(directory: string, signal?: AbortSignal): BackupScan {
  const scan = new ScanAhead({ filesTotal: 0, bytesTotal: 0 }, signal);
  void scan.start(resolve(directory));
  return scan;
}

export async function backup(
  repo: Repository,
  source: BackupSource,
  options: BackupOptions = {},
): Promise<Snapshot> {
  if (!source.directory && !source.documents && !source.streams?.length) {
    throw new UsageError('nothing to back up: give a directory, documents or streams');
  }
  try {
    return await withRepoLock(repo, 'shared', () => runBackup(repo, source, options));
  } finally {
    options.scan?.stop();
  }
}

async function runBackup(
  repo: Repository,
  source: BackupSource,
  options: BackupOptions,
): Promise<Snapshot> {
  const started = Date.now();
  const paths = source.directory ? [resolve(source.directory)] : [];
  // The worker threads start while the parent snapshot is looked up.
  const saver = repo.newSaver(options.saver);
  const progress = new Progress('backup', options.onProgress);
  const run = new BackupRun(repo, saver, progress, options);
  try {
    const parent = await findParent(repo, paths, options.parent);
    const tree = source.directory
      ? await run.saveDirectoryRoot(paths[0]!, parent?.tree)
      : undefined;
    const items = [
      ...(await run.saveDocuments(source.documents)),
      ...(await Promise.all((source.streams ?? []).map((s) => run.saveNamedStream(s)))),
    ];
    assertUniqueNames(items);
    const itemsId = items.length
      ? await saveItemList(items, repo.keys.id, (b) => saver.saveTree(b))
      : undefined;
    run.checkAborted();
    await saver.flush();
    await saver.close();
    const snapshot = await saveSnapshot(repo, {
      time: (options.time ?? new Date()).toISOString(),
      host: repo.host,
      user: repo.user,
      tags: [...(options.tags ?? [])],
      paths,
      ...(tree ? { tree } : {}),
      ...(itemsId ? { items: itemsId } : {}),
      ...(parent ? { parent: parent.id } : {}),
      stats: {
        filesTotal: run.files,
        dirsTotal: run.dirs,
        itemsTotal: items.length,
        bytesTotal: run.bytesTotal,
        bytesAdded: saver.stats.bytesAdded,
        storedBytesAdded: saver.stats.storedBytesAdded,
        blobsTotal: run.blobs,
        blobsAdded: saver.stats.blobsAdded,
        durationMs: Date.now() - started,
      },
      ...(run.warnings.length ? { warnings: run.warnings } : {}),
      program: PROGRAM,
    });
    progress.bytesAdded = saver.stats.bytesAdded;
    progress.finish();
    return snapshot;
  } catch (err) {
    await saver.abort();
    throw err;
  } finally {
    run.stopScan();
  }
}

async function findParent(repo: Repository, paths: string[], parent: string | false | undefined) {
  if (parent === false || !paths.length) return undefined;
  if (parent) return loadSnapshot(repo, parent);
  const candidates = await listSnapshots(repo, { host: repo.host, paths });
  return candidates.filter((s) => s.paths.length === paths.length).pop();
}

function assertUniqueNames(items: NamedItem[]): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.name))
      throw new UsageError(`two items are named ${JSON.stringify(item.name)}`);
    seen.add(item.name);
  }
}

class BackupRun {
  files = 0;
  dirs = 0;
  blobs = 0;
  bytesTotal = 0;
  readonly warnings: string[] = [];
  private readonly fileSlots: Semaphore;
  /** The progress scan, which keeps what it read for the walk. */
  private scan: ScanAhead;

  constructor(
    private readonly repo: Repository,
    private readonly saver: BlobSaver,
    private readonly progress: Progress,
    private readonly options: BackupOptions,
  ) {
    this.fileSlots = new Semaphore(options.fileConcurrency ?? 512);
    this.scan = new ScanAhead(progress, options.signal);
  }

  /** The scan of `dir`: the one started early if it is of `dir` (another one is stopped). */
  private scanOf(dir: string): ScanAhead {
    const early = this.options.scan;
    if (!(early instanceof ScanAhead) || early.root !== dir) {
      early?.stop();
      return this.scan;
    }
    early.reportTo(this.progress);
    return early;
  }

  /** Ends the progress scan (an early one not taken over is stopped by `backup`). */
  stopScan(): void {
    this.scan.stop();
  }

  /** The first error of a file or tree being saved behind the walk: the walk stops at it. */
  private failure?: unknown;

  checkAborted(): void {
    if (this.options.signal?.aborted) throw new EngineError('ECANCELED', 'backup canceled');
    if (this.failure) throw this.failure;
  }

  /** Keeps the promise of work behind the walk; its failure stops the walk at the next step. */
  private behind(pending: Promise<void>[], work: Promise<void>): void {
    work.catch((err: unknown) => void (this.failure ??= err));
    pending.push(work);
  }

  async saveDirectoryRoot(dir: string, parentTree?: string): Promise<string> {
    const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(
        `cannot read ${dir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`,
      );
    });
    if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory`);
    this.scan = this.scanOf(dir);
    void this.scan.start(dir);
    return (await this.walkDir(dir, parentTree)).tree;
  }

  /**
   * Lists a directory, starts saving its files and walks its subdirectories, one directory after
   * another; resolves once the walk is done with `tree`, the directory's tree id, which resolves
   * when its files are saved. So the walk goes on while the files of the directories behind it
   * are read (without waiting at each directory's end), and the directories waiting for their
   * files are at most those of the files in flight and their parents.
   */
  private async walkDir(dir: string, parentTree?: string): Promise<{ tree: Promise<string> }> {
    this.checkAborted();
    this.dirs++;
    const previous = new Map<string, TreeNode>();
    if (parentTree) {
      const tree = await this.repo.loadTree(parentTree).catch(() => undefined);
      for (const n of tree?.nodes ?? []) previous.set(n.name, n);
    }
    let names: string[];
    try {
      names = this.scan.takeListing(dir) ?? (await readdir(dir)).sort();
    } catch (err) {
      this.warn(`cannot list ${dir}: ${(err as Error).message}`);
      names = [];
    }
    const nodes: TreeNode[] = [];
    const pending: Promise<void>[] = [];
    for (const name of names) {
      const path = join(dir, name);
      let st: Stats;
      try {
        st = this.scan.takeStat(path) ?? lstatSync(path);
      } catch (err) {
        this.warn(`cannot stat ${path}: ${(err as Error).message}`);
        continue;
      }
      const base = { name, mode: st.mode & 0o7777, mtime: st.mtimeMs };
      const old = previous.get(name);
      if (st.isDirectory()) {
        const node: TreeNode = { ...base, type: 'dir', size: 0 };
        nodes.push(node);
        const { tree } = await this.walkDir(path, old?.type === 'dir' ? old.subtree : undefined);
        this.behind(
          pending,
          tree.then((subtree) => void (node.subtree = subtree)),
        );
      } else if (st.isSymbolicLink()) {
        nodes.push({ ...base, type: 'symlink', size: 0, target: await readlink(path) });
      } else if (st.isFile()) {
        const node: TreeNode = {
          ...base,
          type: 'file',
          size: st.size,
          inode: st.ino,
          ctime: st.ctimeMs,
          content: [],
        };
        nodes.push(node);
        this.files++;
        this.bytesTotal += st.size;
        if (old && unchanged(old, st)) {
          node.content = old.content ?? [];
          this.blobs += node.content.length;
          this.fileDone(st.size, path);
          continue;
        }
        const release = await this.fileSlots.acquire();
        this.checkAborted();
        this.behind(pending, this.saveFile(path, node).finally(release));
      } else {
        this.warn(`skipped ${path}: not a regular file, directory or symlink`);
      }
    }
    const tree = Promise.all(pending).then(() => {
      // Files that vanished or failed mid-read are dropped from the tree (warned above).
      const kept = nodes.filter((n) => n.type !== 'file' || n.content !== undefined);
      return this.saver.saveTree(Buffer.from(JSON.stringify({ nodes: kept })));
    });
    tree.catch((err: unknown) => void (this.failure ??= err));
    return { tree };
  }

  private async saveFile(path: string, node: TreeNode): Promise<void> {
    this.checkAborted();
    try {
      const { content, size } = await this.saver.saveFile(path, node.size, (n) => {
        this.progress.bytesDone += n;
        this.progress.currentItem = path;
        this.progress.bytesAdded = this.saver.stats.bytesAdded;
        this.progress.tick();
      });
      if (size !== node.size) {
        this.warn(`${path} changed size while it was read (${node.size} → ${size} bytes)`);
        this.bytesTotal += size - node.size;
        node.size = size;
      }
      node.content = content;
      this.blobs += content.length;
      this.progress.filesDone++;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EREAD') throw err;
      this.warn(`cannot read ${path}: ${(err as Error).message}`);
      node.content = undefined;
      this.files--;
      this.bytesTotal -= node.size;
    }
  }

  async saveDocuments(docs?: BackupSource['documents']): Promise<NamedItem[]> {
    const items: NamedItem[] = [];
    for await (const doc of docs ?? []) {
      this.checkAborted();
      const data = typeof doc.data === 'string' ? Buffer.from(doc.data) : doc.data;
      const { content, size } = await this.saver.saveBytes(data);
      items.push({
        name: doc.name,
        kind: 'document',
        size,
        content,
        ...(doc.mediaType ? { mediaType: doc.mediaType } : {}),
      });
      this.blobs += content.length;
      this.bytesTotal += size;
      this.fileDone(size, doc.name);
    }
    return items;
  }

  async saveNamedStream(s: NamedStream): Promise<NamedItem> {
    const { content, size } = await this.saver.saveStream(s.stream, {
      onBytes: (n) => {
        this.progress.bytesDone += n;
        this.progress.bytesTotal = Math.max(this.progress.bytesTotal, this.progress.bytesDone);
        this.progress.currentItem = s.name;
        this.progress.tick();
      },
    });
    this.checkAborted();
    this.blobs += content.length;
    this.bytesTotal += size;
    this.progress.filesDone++;
    return {
      name: s.name,
      kind: 'stream',
      size,
      content,
      ...(s.mediaType ? { mediaType: s.mediaType } : {}),
    };
  }

  private fileDone(size: number, item: string): void {
    this.progress.filesDone++;
    this.progress.bytesDone += size;
    this.progress.currentItem = item;
    this.progress.tick();
  }

  private warn(message: string): void {
    this.warnings.push(message);
  }
}

function unchanged(old: TreeNode, st: Stats): boolean {
  return (
    old.type === 'file' &&
    old.size === st.size &&
    old.mtime === st.mtimeMs &&
    old.ctime === st.ctimeMs &&
    old.inode === st.ino &&
    old.content !== undefined
  );
}
