/**
 * prune: removes blobs no snapshot references. Mark (walk every snapshot) and sweep (delete
 * packs holding only garbage, repack packs that are partly garbage), under an exclusive lock.
 *
 * Crash-safe ordering: (1) repacked blobs are written to new packs; (2) one new index file
 * describing every surviving pack is written, naming the index files it supersedes; (3) the old
 * index files are deleted; (4) obsolete packs are deleted. A crash before (2) leaves only extra
 * packs (unindexed; the next prune removes them). After (2) readers ignore superseded index
 * files, so every state in between is a consistent repository.
 */
import { withRepoLock } from './op-lock.js';
import { packIdFromKey, packKey, PackWriter, type PackedBlob } from './pack.js';
import { Progress } from './progress.js';
import { indexFileFrom, writeIndexFile } from './repo-index.js';
import type { Repository } from './repository.js';
import { collectReferences } from './references.js';
import { listSnapshots } from './snapshots.js';
import { randomId } from './crypto.js';
import type { BlobType, ProgressListener } from './types.js';
import { mapLimit } from './util/concurrency.js';

export interface PruneOptions {
  dryRun?: boolean;
  /** Repack a pack when more than this fraction of its bytes is garbage (default 0.05). */
  maxUnusedFraction?: number;
  onProgress?: ProgressListener;
}

export interface PruneReport {
  dryRun: boolean;
  snapshots: number;
  packsTotal: number;
  packsDeleted: number;
  packsRepacked: number;
  packsWritten: number;
  /** Packs in storage but in no index (interrupted backups), removed. */
  orphanPacks: number;
  blobsRemoved: number;
  bytesBefore: number;
  bytesAfter: number;
  bytesFreed: number;
}

interface PackPlan {
  id: string;
  size: number;
  used: PackedBlob[];
  unusedBytes: number;
}

export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneReport> {
  return withRepoLock(repo, 'exclusive', () => runPrune(repo, options));
}

async function runPrune(repo: Repository, options: PruneOptions): Promise<PruneReport> {
  await repo.reloadIndex();
  const progress = new Progress('prune', options.onProgress);
  const snapshots = await listSnapshots(repo);
  const refs = await collectReferences(repo, snapshots);
  const used = (b: PackedBlob) => (b.type === 'tree' ? refs.trees.has(b.id) : refs.data.has(b.id));

  const sizes = new Map<string, number>();
  for await (const o of repo.storage.list('data/')) sizes.set(packIdFromKey(o.key), o.size);

  const keep: PackPlan[] = [];
  const remove: PackPlan[] = [];
  const repack: PackPlan[] = [];
  const claimed = new Set<string>();
  let blobsRemoved = 0;
  for (const id of repo.index.packIds()) {
    const size = sizes.get(id);
    if (size === undefined) continue; // missing pack: check reports it; nothing to delete
    const blobs = repo.index.packBlobs(id)!;
    const plan: PackPlan = { id, size, used: [], unusedBytes: 0 };
    for (const b of blobs) {
      // A blob stored twice (two concurrent backups) is kept once.
      if (used(b) && !claimed.has(b.id)) {
        claimed.add(b.id);
        plan.used.push(b);
      } else {
        plan.unusedBytes += b.length;
        blobsRemoved++;
      }
    }
    if (!plan.used.length) remove.push(plan);
    else if (plan.unusedBytes > size * (options.maxUnusedFraction ?? 0.05)) repack.push(plan);
    else keep.push(plan);
  }
  const indexed = new Set(repo.index.packIds());
  const orphans = [...sizes.keys()].filter((id) => !indexed.has(id));
  const bytesBefore = [...sizes.values()].reduce((a, b) => a + b, 0);

  const report: PruneReport = {
    dryRun: !!options.dryRun,
    snapshots: snapshots.length,
    packsTotal: sizes.size,
    packsDeleted: remove.length + orphans.length,
    packsRepacked: repack.length,
    packsWritten: 0,
    orphanPacks: orphans.length,
    blobsRemoved,
    bytesBefore,
    bytesAfter: 0,
    bytesFreed: 0,
  };
  const estimateAfter = keep.reduce((s, p) => s + p.size, 0) + repack.reduce((s, p) => s + p.size - p.unusedBytes, 0);
  if (options.dryRun || (!remove.length && !repack.length && !orphans.length)) {
    report.bytesAfter = estimateAfter;
    report.bytesFreed = bytesBefore - estimateAfter;
    progress.finish();
    return report;
  }

  // (1) Repack: copy used sealed blobs as they are (no re-encryption needed) into new packs.
  const written: Array<{ id: string; blobs: PackedBlob[] }> = [];
  const writers: Record<BlobType, PackWriter> = { data: new PackWriter(), tree: new PackWriter() };
  const flushPack = async (type: BlobType) => {
    if (!writers[type].count) return;
    const { data, blobs } = writers[type].finish(repo);
    const id = randomId();
    await repo.storage.put(packKey(id), data);
    written.push({ id, blobs });
  };
  progress.filesTotal = repack.length;
  for (const plan of repack) {
    const data = await repo.storage.get(packKey(plan.id));
    for (const b of plan.used) {
      const sealed = data.subarray(b.offset, b.offset + b.length);
      repo.decodeBlob(b.id, sealed); // never carry corrupted data forward
      writers[b.type].add(b.id, b.type, sealed, b.plainLength);
      if (writers[b.type].bytes >= repo.config.packSize) await flushPack(b.type);
    }
    progress.filesDone++;
    progress.tick();
  }
  await flushPack('data');
  await flushPack('tree');
  report.packsWritten = written.length;

  // (2) One index for everything that survives, superseding all current index files.
  const oldIndexFiles = [...repo.index.files];
  const survivors = [...keep.map((p) => ({ id: p.id, blobs: p.used })), ...written];
  const file = { ...indexFileFrom(survivors), supersedes: oldIndexFiles };
  await writeIndexFile(repo, file);

  // (3) Old index files, then (4) obsolete packs.
  await mapLimit(oldIndexFiles, 8, (id) => repo.storage.delete(`index/${id}`));
  const obsolete = [...remove.map((p) => p.id), ...repack.map((p) => p.id), ...orphans];
  await mapLimit(obsolete, 8, (id) => repo.storage.delete(packKey(id)));
  await repo.reloadIndex();

  let after = 0;
  for await (const o of repo.storage.list('data/')) after += o.size;
  report.bytesAfter = after;
  report.bytesFreed = bytesBefore - after;
  progress.finish();
  return report;
}
