/**
 * check: verifies a repository's structure (index ↔ packs, pack headers, snapshots, every tree,
 * every referenced blob present, the audit chain) and optionally the data itself (every blob of
 * all or a subset of packs decrypted and id-checked). Reports; never repairs.
 */
import { randomInt } from 'node:crypto';
import { verifyAuditLog } from './audit.js';
import { getSealedJson } from './context.js';
import { UsageError } from './errors.js';
import { packIdFromKey, packKey, parseHeaderFromPack, readPackHeader, type PackedBlob } from './pack.js';
import { Progress } from './progress.js';
import type { IndexFile } from './repo-index.js';
import type { Repository } from './repository.js';
import { collectReferences } from './references.js';
import { listSnapshotIds, loadSnapshot } from './snapshots.js';
import type { ProgressListener, Snapshot } from './types.js';
import { mapLimit } from './util/concurrency.js';

export interface CheckOptions {
  /** Read and verify every blob of every pack. */
  readData?: boolean;
  /** Read a subset: `n/t` (the n-th of t groups of packs) or a percentage like `10%`. */
  readDataSubset?: string;
  onProgress?: ProgressListener;
}

export interface CheckReport {
  ok: boolean;
  errors: string[];
  /** Not damage, but worth knowing (e.g. leftovers of an interrupted backup that prune removes). */
  warnings: string[];
  snapshots: number;
  packs: number;
  blobs: number;
  trees: number;
  packsRead: number;
  bytesRead: number;
  auditEntries: number;
}

/** Parses `n/t` or `P%` into a pack selector. */
export function parseSubset(spec: string): (packId: string, all: string[]) => boolean {
  const frac = /^(\d+)\/(\d+)$/.exec(spec);
  if (frac) {
    const n = Number(frac[1]);
    const t = Number(frac[2]);
    if (t < 1 || n < 1 || n > t) throw new UsageError(`--read-data-subset ${spec}: need 1 ≤ n ≤ t`);
    return (id) => parseInt(id.slice(0, 8), 16) % t === n - 1;
  }
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(spec);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw new UsageError(`--read-data-subset ${spec}: percentage must be in (0, 100]`);
    let chosen: Set<string> | undefined;
    return (id, all) => {
      if (!chosen) {
        const shuffled = [...all];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = randomInt(i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        chosen = new Set(shuffled.slice(0, Math.ceil((all.length * p) / 100)));
      }
      return chosen.has(id);
    };
  }
  throw new UsageError(`--read-data-subset ${spec}: expected n/t (e.g. 1/5) or a percentage (e.g. 10%)`);
}

export async function check(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  const select = options.readDataSubset ? parseSubset(options.readDataSubset) : options.readData ? () => true : undefined;
  const report: CheckReport = {
    ok: true,
    errors: [],
    warnings: [],
    snapshots: 0,
    packs: 0,
    blobs: 0,
    trees: 0,
    packsRead: 0,
    bytesRead: 0,
    auditEntries: 0,
  };
  const error = (msg: string) => report.errors.push(msg);
  const progress = new Progress('check', options.onProgress);

  // 1. Index files decrypt; the loaded index is what the rest is checked against.
  for await (const o of repo.storage.list('index/')) {
    await getSealedJson<IndexFile>(repo, o.key).catch((e: Error) => error(`index file ${o.key}: ${e.message}`));
  }
  await repo.reloadIndex().catch((e: Error) => error(`index: ${e.message}`));

  // 2. Packs in storage vs packs in the index, and every pack header vs the index.
  const stored = new Map<string, number>();
  for await (const o of repo.storage.list('data/')) stored.set(packIdFromKey(o.key), o.size);
  const indexed = [...repo.index.packIds()];
  report.packs = indexed.length;
  report.blobs = repo.index.blobCount;
  for (const id of stored.keys()) {
    if (!repo.index.packBlobs(id)) {
      report.warnings.push(`pack ${id.slice(0, 12)} is in no index (left by an interrupted backup or prune; "repo prune" removes it)`);
    }
  }
  progress.filesTotal = indexed.length;
  await mapLimit(indexed, 8, async (packId) => {
    const size = stored.get(packId);
    if (size === undefined) return error(`pack ${packId} is in the index but missing from storage`);
    try {
      compareHeader(packId, await readPackHeader(repo, packId, size), repo.index.packBlobs(packId)!, error);
    } catch (e) {
      error(`pack ${packId}: ${(e as Error).message}`);
    }
    progress.filesDone++;
    progress.tick();
  });

  // 3. Snapshots, every tree they reference, and every data blob present in the index.
  const snapshots: Snapshot[] = [];
  for (const id of await listSnapshotIds(repo)) {
    try {
      snapshots.push(await loadSnapshot(repo, id));
    } catch (e) {
      error(`snapshot ${id}: ${(e as Error).message}`);
    }
  }
  report.snapshots = snapshots.length;
  for (const snap of snapshots) {
    try {
      const refs = await collectReferences(repo, [snap]);
      report.trees += refs.trees.size;
      const missing = [...refs.data].filter((id) => !repo.index.has(id));
      if (missing.length) error(`snapshot ${snap.id.slice(0, 8)}: ${missing.length} data blob(s) missing, e.g. ${missing[0]}`);
    } catch (e) {
      error(`snapshot ${snap.id.slice(0, 8)}: ${(e as Error).message}`);
    }
  }

  // 4. The audit log's hash chain.
  const audit = await verifyAuditLog(repo).catch((e: Error) => ({ ok: false, entries: 0, firstBad: { seq: -1, key: '', reason: e.message } }));
  report.auditEntries = audit.entries;
  if (!audit.ok) error(`audit log: entry ${audit.firstBad?.seq} (${audit.firstBad?.key}): ${audit.firstBad?.reason}`);

  // 5. Data: every blob of the selected packs.
  if (select) {
    const chosen = indexed.filter((id) => stored.has(id) && select(id, indexed));
    progress.filesDone = 0;
    progress.filesTotal = chosen.length;
    progress.bytesTotal = chosen.reduce((s, id) => s + stored.get(id)!, 0);
    await mapLimit(chosen, 4, async (packId) => {
      try {
        const data = await repo.storage.get(packKey(packId));
        report.bytesRead += data.length;
        const header = parseHeaderFromPack(repo, packId, data);
        for (const blob of header) {
          try {
            repo.decodeBlob(blob.id, data.subarray(blob.offset, blob.offset + blob.length));
          } catch (e) {
            error(`pack ${packId}: ${(e as Error).message}`);
          }
        }
        report.packsRead++;
      } catch (e) {
        error(`pack ${packId}: ${(e as Error).message}`);
      }
      progress.filesDone++;
      progress.bytesDone += stored.get(packId)!;
      progress.tick();
    });
  }
  progress.finish();
  report.ok = report.errors.length === 0;
  return report;
}

function compareHeader(packId: string, header: PackedBlob[], indexed: PackedBlob[], error: (m: string) => void): void {
  const inHeader = new Map(header.map((b) => [`${b.id}@${b.offset}`, b]));
  for (const b of indexed) {
    const h = inHeader.get(`${b.id}@${b.offset}`);
    if (!h || h.length !== b.length || h.type !== b.type) {
      error(`pack ${packId}: index entry for blob ${b.id} does not match the pack header`);
      return;
    }
  }
}
