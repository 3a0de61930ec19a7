/** Describing one backup: resources by kind, volumes with sizes, images with digests, stats, warnings, who/when/where. */
import { listItems, type Repository, type SnapshotStats } from '@kubectl-backup/engine';
import type { ImageRecord } from './capture.js';
import { KIND_RESTORE_RECORD, tagValue } from './layout.js';
import { latestVerifications, summarize, type BackupSummary } from './list.js';
import type { BackupManifest } from './manifest.js';
import { findBackup, listRecords, readManifest } from './records.js';
import type { VolumeRecord } from './integration.js';

export interface KindSummary {
  kind: string;
  apiVersion: string;
  count: number;
  names: string[];
}

export interface BackupDescription {
  summary: BackupSummary;
  who: { actor: string; actorSource: string; host: string; user: string };
  when: { started: string; finished: string; durationMs: number };
  where: { cluster: string; context: string; server: string; namespace: string };
  resources: KindSummary[];
  /** Cluster-scoped objects captured as dependencies, with why. */
  dependencies: Array<{ kind: string; name: string; reason: string }>;
  skipped: BackupManifest['skipped'];
  /** Volume records with the size stored in the repository item. */
  volumes: Array<VolumeRecord & { itemSize?: number }>;
  images: ImageRecord[];
  hooks: BackupManifest['hooks'];
  stats: SnapshotStats;
  warnings: string[];
  options: BackupManifest['options'];
  restores: Array<{ name: string; time: string; targetNamespace: string; outcome: string; snapshot: string }>;
  manifest: BackupManifest;
}

export async function describeBackup(repo: Repository, ref: string, options: { namespace?: string } = {}): Promise<BackupDescription> {
  const handle = await findBackup(repo, ref, options);
  const s = handle.snapshot;
  const manifest = await readManifest(repo, s);
  const verified = (await latestVerifications(repo, handle.name)).get(handle.name);
  const items = await listItems(repo, s);
  const byKind = new Map<string, KindSummary>();
  for (const o of manifest.objects) {
    if (o.dependencyOf) continue;
    const k = byKind.get(o.kind) ?? { kind: o.kind, apiVersion: o.apiVersion, count: 0, names: [] };
    k.count++;
    k.names.push(o.name);
    byKind.set(o.kind, k);
  }
  const restores = (await listRecords(repo, KIND_RESTORE_RECORD, { source: handle.name })).map((r) => ({
    name: tagValue(r.tags, 'name') ?? r.id.slice(0, 8),
    time: r.time,
    targetNamespace: tagValue(r.tags, 'namespace') ?? '',
    outcome: tagValue(r.tags, 'outcome') ?? 'unknown',
    snapshot: r.id,
  }));
  return {
    summary: summarize(s, manifest, verified),
    who: { actor: manifest.actor, actorSource: manifest.actorSource, host: s.host, user: s.user },
    when: { started: manifest.started, finished: manifest.finished, durationMs: manifest.durationMs },
    where: { cluster: manifest.cluster.name, context: manifest.cluster.context, server: manifest.cluster.server, namespace: manifest.namespace },
    resources: [...byKind.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
    dependencies: manifest.objects.filter((o) => o.dependencyOf).map((o) => ({ kind: o.kind, name: o.name, reason: o.dependencyOf! })),
    skipped: manifest.skipped,
    volumes: manifest.volumes.map((v) => {
      const item = items.find((i) => i.name === v.item);
      return { ...v, ...(item ? { itemSize: item.size } : {}) };
    }),
    images: manifest.images,
    hooks: manifest.hooks,
    stats: s.stats,
    warnings: [...manifest.warnings, ...(s.warnings ?? [])],
    options: manifest.options,
    restores,
    manifest,
  };
}
