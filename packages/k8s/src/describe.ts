/** Describing one backup: resources by kind, volumes with sizes, images with digests, stats, warnings, who/when/where. */
import { listItems, type NamedItem, type Repository, type SnapshotStats } from '@kubectl-backup/engine';
import type { ImageRecord } from './capture.js';
import { KIND_RESTORE_RECORD, parseResourceDocName, tagValue } from './layout.js';
import { latestVerifications, summarize, type BackupSummary } from './list.js';
import type { BackupManifest, ManifestObject } from './manifest.js';
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
  for (const o of backupObjects(manifest, items)) {
    if (o.namespace === undefined) continue;
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
    dependencies: manifest.dependencies.map((d) => ({ kind: d.kind, name: d.name, reason: d.reason })),
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

/** The objects of a backup (from its items; kinds from the manifest's types and dependencies). */
export function backupObjects(manifest: BackupManifest, items: NamedItem[]): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const item of items) {
    const ref = parseResourceDocName(item.name);
    if (!ref) continue;
    const dep = manifest.dependencies.find((d) => d.path === item.name);
    const kind = dep?.kind ?? manifest.types.find((t) => t.group === ref.group && t.resource === ref.resource)?.kind ?? ref.resource;
    out.push({
      path: item.name,
      apiVersion: ref.group ? `${ref.group}/${ref.version}` : ref.version,
      kind,
      ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}),
      name: ref.name,
      ...(dep ? { dependencyOf: dep.reason } : {}),
    });
  }
  return out;
}

/** The objects of a stored backup, without reading them. */
export async function listBackupObjects(repo: Repository, ref: string): Promise<ManifestObject[]> {
  const handle = await findBackup(repo, ref);
  return backupObjects(await readManifest(repo, handle.snapshot), await listItems(repo, handle.snapshot));
}
