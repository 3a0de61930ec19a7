/** Writes of the ingest: backups, restores and audit events of one repository, and its cursor. */
import type { Knex } from 'knex';
import type { Verification } from '@kubectl-backup/plugin-backup-common';
import {
  TOTALLED_COLUMNS,
  addToTotals,
  removeFromTotals,
  type TotalledBackup,
} from './backupTotals.js';
import { backupSummaryJson } from './backupJson.js';
import { deleteReturning } from './deleteReturning.js';
import { refreshFirstPages, targetsOf } from './firstPages.js';
import type { AuditEventRow, BackupRecord, IngestCursor, RestoreRecordRow } from './types.js';
import { chunks, num, optNum, optStr } from './values.js';

const CHUNK = 100;

export class IngestStore {
  /** SQL of a backup's JSON, for the kept first pages (firstPages.ts). */
  private readonly backupJson: string | undefined;

  constructor(private readonly knex: Knex) {
    this.backupJson = backupSummaryJson(knex);
  }

  async getCursor(repository: string): Promise<IngestCursor | undefined> {
    const r = await this.knex('ingest_cursors').where({ repository }).first();
    if (!r) return undefined;
    const cursor: IngestCursor = { repository, location: r.location, auditSeq: num(r.audit_seq) };
    if (r.last_run_at) cursor.lastRunAt = r.last_run_at;
    if (r.last_success_at) cursor.lastSuccessAt = r.last_success_at;
    if (r.last_error) cursor.lastError = r.last_error;
    if (r.audit_hash) cursor.auditHash = r.audit_hash;
    if (r.audit_chain_ok !== null && r.audit_chain_ok !== undefined) {
      cursor.auditChain = {
        ok: Boolean(r.audit_chain_ok),
        entries: num(r.audit_entries),
        verifiedAt: r.audit_verified_at,
      };
      const badSeq = optNum(r.audit_bad_seq);
      if (badSeq !== undefined) cursor.auditChain.badSeq = badSeq;
      const badReason = optStr(r.audit_bad_reason);
      if (badReason) cursor.auditChain.badReason = badReason;
    }
    return cursor;
  }

  async saveCursor(c: IngestCursor): Promise<void> {
    const row = {
      repository: c.repository,
      location: c.location,
      last_run_at: c.lastRunAt ?? null,
      last_success_at: c.lastSuccessAt ?? null,
      last_error: c.lastError ?? null,
      audit_seq: c.auditSeq,
      audit_hash: c.auditHash ?? null,
      audit_chain_ok: c.auditChain ? c.auditChain.ok : null,
      audit_entries: c.auditChain?.entries ?? null,
      audit_bad_seq: c.auditChain?.badSeq ?? null,
      audit_bad_reason: c.auditChain?.badReason ?? null,
      audit_verified_at: c.auditChain?.verifiedAt ?? null,
    };
    await this.knex('ingest_cursors').insert(row).onConflict('repository').merge();
  }

  /** Snapshot ids of the repository's ingested backups, with their verification. */
  async backupSnapshots(repository: string): Promise<Map<string, Verification | undefined>> {
    const rows = await this.knex('backups')
      .where({ repository })
      .select('snapshot', 'verification_result', 'verification_time', 'verification_record');
    return new Map(
      rows.map((r) => [
        r.snapshot as string,
        r.verification_result
          ? {
              result: r.verification_result,
              time: r.verification_time,
              record: r.verification_record,
            }
          : undefined,
      ]),
    );
  }

  async addBackup(b: BackupRecord): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const key = { repository: b.repository, snapshot: b.snapshot };
      const row = {
        ...key,
        name: b.name,
        namespace: b.namespace,
        cluster: b.cluster,
        time: b.time,
        duration_ms: b.durationMs ?? null,
        actor: b.actor,
        resources: b.resources,
        volumes: b.volumes,
        volume_bytes: b.volumeBytes,
        size_total: b.sizeTotal,
        size_added: b.sizeAdded,
        stored_added: b.storedAdded,
        warnings: b.warnings,
        warning_list: JSON.stringify(b.warningList),
        tags: JSON.stringify(b.tags),
        verification_result: b.verification?.result ?? null,
        verification_time: b.verification?.time ?? null,
        verification_record: b.verification?.record ?? null,
        error: b.error ?? null,
      };
      await tx('backups').insert(row);
      await addToTotals(tx, [row]);
      await refreshFirstPages(tx, this.backupJson, targetsOf([row]));
      for (const part of chunks(b.kinds, CHUNK)) {
        await tx('backup_kinds').insert(
          part.map((k) => ({ ...key, kind: k.kind, count: k.count })),
        );
      }
      for (const part of chunks(b.volumeList, CHUNK)) {
        await tx('backup_volumes').insert(
          part.map((v) => ({
            ...key,
            pvc: v.pvc,
            method: v.method ?? null,
            storage_class: v.storageClass ?? null,
            capacity: v.capacity ?? null,
            bytes: v.bytes ?? null,
          })),
        );
      }
      const images = b.images.map((im, idx) => ({
        ...key,
        idx,
        container: im.container,
        image: im.image,
        digest: im.digest ?? null,
        owner: im.owner ?? null,
        pod: im.pod ?? null,
      }));
      for (const part of chunks(images, CHUNK)) await tx('backup_images').insert(part);
    });
  }

  /**
   * Removes forgotten backups with their items, takes them out of their targets' totals and
   * rewrites those targets' first pages.
   */
  async removeBackups(repository: string, snapshots: string[]): Promise<void> {
    for (const part of chunks(snapshots, CHUNK)) {
      await this.knex.transaction(async (tx) => {
        for (const table of ['backup_kinds', 'backup_volumes', 'backup_images']) {
          await tx(table).where({ repository }).whereIn('snapshot', part).delete();
        }
        const deleted = await deleteReturning<TotalledBackup>(
          tx,
          tx('backups').where({ repository }).whereIn('snapshot', part),
          TOTALLED_COLUMNS,
        );
        await removeFromTotals(tx, deleted);
        await refreshFirstPages(tx, this.backupJson, targetsOf(deleted));
      });
    }
  }

  async setVerification(
    repository: string,
    snapshot: string,
    v: Verification | undefined,
  ): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const backup = tx('backups').where({ repository, snapshot });
      const targets = targetsOf(await backup.clone().select(TOTALLED_COLUMNS));
      await backup.update({
        verification_result: v?.result ?? null,
        verification_time: v?.time ?? null,
        verification_record: v?.record ?? null,
      });
      // Its target's first page holds the backup's verification (when the backup is on it).
      await refreshFirstPages(tx, this.backupJson, targets);
    });
  }

  async restoreSnapshots(repository: string): Promise<Set<string>> {
    const rows = await this.knex('restores').where({ repository }).select('snapshot');
    return new Set(rows.map((r) => r.snapshot as string));
  }

  async addRestore(r: RestoreRecordRow): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const key = { repository: r.repository, snapshot: r.snapshot };
      await tx('restores').insert({
        ...key,
        name: r.name,
        source_backup: r.source.backup,
        source_snapshot: r.source.snapshot,
        source_namespace: r.source.namespace,
        target_namespace: r.targetNamespace,
        cluster: r.cluster,
        actor: r.actor,
        time: r.time,
        duration_ms: r.durationMs ?? null,
        outcome: r.outcome,
        counts: JSON.stringify(r.counts),
        warning_list: JSON.stringify(r.warnings),
        error: r.error ?? null,
      });
      const items = r.items.map((it, idx) => ({
        ...key,
        idx,
        api_version: it.apiVersion,
        kind: it.kind,
        namespace: it.namespace ?? null,
        name: it.name,
        action: it.action,
        outcome: it.outcome,
        reason: it.reason ?? null,
      }));
      for (const part of chunks(items, CHUNK)) await tx('restore_items').insert(part);
    });
  }

  async removeRestores(repository: string, snapshots: string[]): Promise<void> {
    for (const part of chunks(snapshots, CHUNK)) {
      await this.knex.transaction(async (tx) => {
        await tx('restore_items').where({ repository }).whereIn('snapshot', part).delete();
        await tx('restores').where({ repository }).whereIn('snapshot', part).delete();
      });
    }
  }

  /** Inserts audit events; ones already there (same repository and seq) are left alone. */
  async addAuditEvents(events: AuditEventRow[]): Promise<void> {
    const rows = events.map((e) => ({
      repository: e.repository,
      seq: e.seq,
      time: e.time,
      actor: e.actor,
      action: e.action,
      target: e.target ?? null,
      outcome: e.outcome,
      namespace: e.namespace ?? null,
      cluster: e.cluster ?? null,
      host: e.host,
      details: e.details ? JSON.stringify(e.details) : null,
    }));
    for (const part of chunks(rows, CHUNK)) {
      await this.knex('audit_events').insert(part).onConflict(['repository', 'seq']).ignore();
    }
  }
}
