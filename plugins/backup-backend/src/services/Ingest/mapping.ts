/** k8s library records → the plugin's rows. Pure functions over what the library read. */
import type { AuditEntry, Snapshot } from '@kubectl-backup/engine';
import {
  tagValue,
  TAG_PREFIX,
  type BackupManifest,
  type RestoreRecord,
  type VerificationSummary,
} from '@kubectl-backup/k8s';
import type { Verification } from '@kubectl-backup/plugin-backup-common';
import type { AuditEventRow, BackupRecord, RestoreRecordRow } from '../../database/types.js';
import { compact, toIso } from '../../database/values.js';

export function toVerification(v: VerificationSummary | undefined): Verification | undefined {
  return v ? { result: v.result, time: toIso(v.time), record: v.record } : undefined;
}

/** A backup snapshot and its manifest (undefined when unreadable: `error` says why). */
export function toBackupRecord(
  repository: string,
  s: Snapshot,
  manifest: BackupManifest | undefined,
  verification: Verification | undefined,
  error?: string,
): BackupRecord {
  const warningList = [...(manifest?.warnings ?? []), ...(s.warnings ?? [])];
  const volumeList = (manifest?.volumes ?? []).map((v) =>
    compact({
      pvc: v.pvc,
      method: v.method,
      storageClass: v.storageClass,
      capacity: v.capacity,
      bytes: v.bytes,
    }),
  );
  return compact({
    repository,
    snapshot: s.id,
    name: tagValue(s.tags, 'name') ?? s.id.slice(0, 8),
    namespace: tagValue(s.tags, 'namespace') ?? manifest?.namespace ?? '',
    cluster: tagValue(s.tags, 'cluster') ?? manifest?.cluster.name ?? '',
    time: toIso(s.time),
    durationMs: manifest?.durationMs,
    actor: manifest?.actor ?? s.user,
    resources: manifest?.resources.total ?? 0,
    volumes: volumeList.length,
    volumeBytes: volumeList.reduce((n, v) => n + (v.bytes ?? 0), 0),
    sizeTotal: s.stats.bytesTotal,
    sizeAdded: s.stats.bytesAdded,
    storedAdded: s.stats.storedBytesAdded,
    warnings: warningList.length,
    warningList,
    tags: s.tags.filter((t) => !t.startsWith(TAG_PREFIX)),
    verification,
    error,
    kinds: Object.entries(manifest?.resources.byKind ?? {})
      .map(([kind, count]) => ({ kind, count }))
      .sort((a, b) => a.kind.localeCompare(b.kind)),
    volumeList,
    images: (manifest?.images ?? []).map((im) =>
      compact({
        container: im.container,
        image: im.image,
        digest: im.digest,
        owner: im.owner,
        pod: im.pod,
      }),
    ),
  });
}

/** A restore record snapshot and its document. */
export function toRestoreRecord(
  repository: string,
  s: Snapshot,
  record: RestoreRecord,
): RestoreRecordRow {
  return compact({
    repository,
    snapshot: s.id,
    name: record.name ?? tagValue(s.tags, 'name') ?? s.id.slice(0, 8),
    source: {
      backup: record.source.backup,
      snapshot: record.source.snapshot,
      namespace: record.source.namespace,
    },
    targetNamespace: record.targetNamespace,
    cluster: tagValue(s.tags, 'cluster') ?? record.cluster?.name ?? '',
    actor: record.actor,
    time: toIso(record.finished ?? s.time),
    durationMs: record.durationMs,
    outcome: record.outcome,
    counts: { ...record.counts },
    items: (record.items ?? []).map((it) =>
      compact({
        kind: it.kind,
        apiVersion: it.apiVersion,
        namespace: it.namespace,
        name: it.name,
        action: it.action,
        outcome: it.outcome,
        reason: it.reason,
      }),
    ),
    warnings: record.warnings ?? [],
    error: record.error,
  });
}

export function toAuditEvent(repository: string, e: AuditEntry): AuditEventRow {
  return compact({
    repository,
    seq: e.seq,
    time: toIso(e.time),
    actor: e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    namespace: e.namespace,
    cluster: e.cluster,
    host: e.host,
    details: e.details,
  });
}
