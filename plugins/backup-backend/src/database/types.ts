/** What the ingest writes and the router reads (the API types of backup-common, plus details). */
import type {
  AuditEvent,
  BackupDetails,
  BackupTarget,
  RestoreDetails,
} from '@kubectl-backup/plugin-backup-common';

/** A backup with its item summaries, as the ingest stores it. */
export type BackupRecord = Omit<BackupDetails, 'restores'>;

export type RestoreRecordRow = RestoreDetails;

export type AuditEventRow = AuditEvent;

export interface IngestCursor {
  repository: string;
  location: string;
  lastRunAt?: string;
  lastSuccessAt?: string;
  lastError?: string;
  /** Highest audit seq ingested (0: none). */
  auditSeq: number;
  /** Hash of that entry. */
  auditHash?: string;
  auditChain?: {
    ok: boolean;
    entries: number;
    verifiedAt: string;
    badSeq?: number;
    badReason?: string;
  };
}

/** Row filters: `targets` restricts to namespaces (and clusters) — an entity, or what a user may see. */
export interface TargetFilter {
  repository?: string;
  targets?: BackupTarget[];
  since?: string;
  until?: string;
}

/** The filter of the backup list: a TargetFilter, and a namespace and cluster asked for. */
export type BackupListFilter = TargetFilter & { namespace?: string; cluster?: string };

export interface PageRequest {
  offset: number;
  limit: number;
}
