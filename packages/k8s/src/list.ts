/** Listing namespace backups from snapshot tags and manifests. */
import type { Repository, Snapshot } from '@kubectl-backup/engine';
import { KIND_VERIFY_RECORD, tagValue, TAG_PREFIX } from './layout.js';
import type { BackupManifest } from './manifest.js';
import { mapLimit } from './rate-limit.js';
import { listBackupSnapshots, listRecords, readManifest } from './records.js';

export interface VerificationSummary {
  result: 'passed' | 'failed' | string;
  time: string;
  record: string;
  snapshot: string;
}

export interface BackupSummary {
  name: string;
  namespace: string;
  /** Snapshot id (full). */
  snapshot: string;
  time: string;
  cluster: string;
  context?: string;
  actor: string;
  /** Objects stored. */
  resources: number;
  volumes: number;
  /** Bytes of volume data (tar). */
  volumeBytes: number;
  /** Plaintext bytes the backup references. */
  sizeTotal: number;
  /** Plaintext bytes new to the repository when it was made. */
  sizeAdded: number;
  /** Bytes written to storage (compressed, encrypted). */
  storedAdded: number;
  warnings: number;
  /** The latest verification, if any. */
  verified?: VerificationSummary;
  /** Tags given by the user (not `kubectl-backup/…`). */
  tags: string[];
  /** Set when the manifest could not be read (the backup is damaged). */
  error?: string;
}

export interface ListBackupsOptions {
  /** Only backups of this namespace (default: all). */
  namespace?: string;
}

/** Every backup, oldest first. */
export async function listBackups(repo: Repository, options: ListBackupsOptions = {}): Promise<BackupSummary[]> {
  const snaps = await listBackupSnapshots(repo, options.namespace);
  const verifications = await latestVerifications(repo);
  return mapLimit(snaps, 8, async (s) => {
    let manifest: BackupManifest | undefined;
    let error: string | undefined;
    try {
      manifest = await readManifest(repo, s);
    } catch (err) {
      error = `manifest unreadable: ${(err as Error).message}`;
    }
    return summarize(s, manifest, verifications.get(tagValue(s.tags, 'name') ?? ''), error);
  });
}

export function summarize(s: Snapshot, manifest: BackupManifest | undefined, verified?: VerificationSummary, error?: string): BackupSummary {
  const name = tagValue(s.tags, 'name') ?? s.id.slice(0, 8);
  return {
    name,
    namespace: tagValue(s.tags, 'namespace') ?? manifest?.namespace ?? '',
    snapshot: s.id,
    time: s.time,
    cluster: tagValue(s.tags, 'cluster') ?? manifest?.cluster.name ?? '',
    ...(manifest?.cluster.context ? { context: manifest.cluster.context } : {}),
    actor: manifest?.actor ?? s.user,
    resources: manifest?.resources.total ?? 0,
    volumes: manifest?.volumes.length ?? 0,
    volumeBytes: (manifest?.volumes ?? []).reduce((n, v) => n + (v.bytes ?? 0), 0),
    sizeTotal: s.stats.bytesTotal,
    sizeAdded: s.stats.bytesAdded,
    storedAdded: s.stats.storedBytesAdded,
    warnings: (manifest?.warnings.length ?? 0) + (s.warnings?.length ?? 0),
    ...(verified ? { verified } : {}),
    tags: s.tags.filter((t) => !t.startsWith(TAG_PREFIX)),
    ...(error ? { error } : {}),
  };
}

/** The latest verify record per backup name. */
export async function latestVerifications(repo: Repository, source?: string): Promise<Map<string, VerificationSummary>> {
  const out = new Map<string, VerificationSummary>();
  for (const r of await listRecords(repo, KIND_VERIFY_RECORD, source ? { source } : {})) {
    const src = tagValue(r.tags, 'source');
    if (!src) continue;
    out.set(src, { result: tagValue(r.tags, 'result') ?? 'unknown', time: r.time, record: tagValue(r.tags, 'name') ?? r.id.slice(0, 8), snapshot: r.id });
  }
  return out;
}

