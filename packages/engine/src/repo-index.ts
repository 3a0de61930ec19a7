/**
 * The index maps every blob id to its pack and position. On storage it is a set of sealed
 * `index/<random id>` files, each `{ packs: [{ id, blobs: PackHeaderRow[] }] }`; in memory it is
 * one map built from all of them. Index files are written while a backup runs (every few packs)
 * so an interrupted backup's uploads are reused by the next one.
 */
import type { RepoContext } from './context.js';
import { openJson, putSealedJson } from './context.js';
import { randomId } from './crypto.js';
import type { PackedBlob, PackHeaderRow } from './pack.js';
import { typeCode, typeName } from './pack.js';
import type { Storage } from './storage/types.js';
import type { BlobType, IndexEntry } from './types.js';
import { mapLimit } from './util/concurrency.js';

export interface IndexFile {
  packs: Array<{ id: string; blobs: PackHeaderRow[] }>;
  /** Index files this one replaces (written by prune/rebuild); they may be deleted. */
  supersedes?: string[];
}

export class MasterIndex {
  private readonly blobs = new Map<string, IndexEntry>();
  private readonly packs = new Map<string, PackedBlob[]>();
  /** Storage ids of the index files loaded. */
  readonly files = new Set<string>();

  get blobCount(): number {
    return this.blobs.size;
  }

  get packCount(): number {
    return this.packs.size;
  }

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): IndexEntry | undefined {
    return this.blobs.get(id);
  }

  packIds(): IterableIterator<string> {
    return this.packs.keys();
  }

  packBlobs(packId: string): PackedBlob[] | undefined {
    return this.packs.get(packId);
  }

  entries(): IterableIterator<IndexEntry> {
    return this.blobs.values();
  }

  addPack(packId: string, blobs: PackedBlob[]): void {
    this.packs.set(packId, blobs);
    for (const b of blobs) {
      if (!this.blobs.has(b.id)) this.blobs.set(b.id, { ...b, pack: packId });
    }
  }

  addFile(fileId: string, file: IndexFile): void {
    this.files.add(fileId);
    for (const p of file.packs) {
      this.addPack(
        p.id,
        p.blobs.map(([id, t, offset, length, plainLength]) => ({
          id,
          type: typeName(t),
          offset,
          length,
          plainLength,
        })),
      );
    }
  }
}

export function indexFileFrom(packs: Array<{ id: string; blobs: PackedBlob[] }>): IndexFile {
  return {
    packs: packs.map((p) => ({
      id: p.id,
      blobs: p.blobs.map(
        (b): PackHeaderRow => [b.id, typeCode(b.type as BlobType), b.offset, b.length, b.plainLength],
      ),
    })),
  };
}

export async function writeIndexFile(ctx: RepoContext, file: IndexFile): Promise<string> {
  const id = randomId();
  await putSealedJson(ctx, `index/${id}`, file);
  return id;
}

export async function loadIndex(ctx: RepoContext): Promise<MasterIndex> {
  return buildIndex(ctx, await fetchIndexFiles(ctx.storage));
}

/** The sealed index files as stored; reading them needs no key, so it can start before unlocking. */
export async function fetchIndexFiles(storage: Storage): Promise<SealedFile[]> {
  const keys: string[] = [];
  for await (const o of storage.list('index/')) keys.push(o.key);
  return mapLimit(keys, 8, async (key) => ({ key, sealed: await storage.get(key) }));
}

export function buildIndex(ctx: RepoContext, sealedFiles: SealedFile[]): MasterIndex {
  const index = new MasterIndex();
  const files = sealedFiles.map(({ key, sealed }) => ({
    id: key.slice('index/'.length),
    file: openJson<IndexFile>(ctx, sealed, key),
  }));
  // A file superseded by another (prune crashed before deleting it) is ignored.
  const superseded = new Set(files.flatMap((f) => f.file.supersedes ?? []));
  for (const f of files) if (!superseded.has(f.id)) index.addFile(f.id, f.file);
  return index;
}

interface SealedFile {
  key: string;
  sealed: Uint8Array;
}
