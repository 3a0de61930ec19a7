/** Queries of the REST API, as the frontend's client passes them. */
import type { BackupRequest, Operation, RestoreRequest, VerifyRequest } from './operations.js';
import type {
  AuditEvent,
  BackupDetails,
  BackupSummary,
  EntityStatus,
  Page,
  RepositoryState,
  RestoreDetails,
  RestoreSummary,
} from './types.js';

export interface PageQuery {
  /** Default 0. */
  offset?: number;
  /** Default 50, at most 500. */
  limit?: number;
}

export type BackupSortField = 'time' | 'name' | 'namespace' | 'size' | 'duration';

export interface BackupListQuery extends PageQuery {
  /** Only backups of this entity's namespace (and cluster). */
  entityRef?: string;
  repository?: string;
  cluster?: string;
  namespace?: string;
  /** Only backups made at or after / before. */
  since?: string;
  until?: string;
  /** Default `time`. */
  sort?: BackupSortField;
  /** Default `desc`. */
  order?: 'asc' | 'desc';
}

export interface RestoreListQuery extends PageQuery {
  entityRef?: string;
  repository?: string;
  namespace?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

export interface AuditQuery extends PageQuery {
  entityRef?: string;
  repository?: string;
  namespace?: string;
  actor?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

/** What the backend's client offers (the frontend implements it over fetch). */
export interface BackupApi {
  getEntityStatus(entityRef: string): Promise<EntityStatus>;
  listBackups(query?: BackupListQuery): Promise<Page<BackupSummary>>;
  getBackup(repository: string, ref: string): Promise<BackupDetails>;
  listRestores(query?: RestoreListQuery): Promise<Page<RestoreSummary>>;
  getRestore(repository: string, ref: string): Promise<RestoreDetails>;
  listAuditEvents(query?: AuditQuery): Promise<Page<AuditEvent>>;
  listRepositories(): Promise<RepositoryState[]>;
  startBackup(request: BackupRequest): Promise<Operation>;
  startVerification(request: VerifyRequest): Promise<Operation>;
  startRestore(request: RestoreRequest): Promise<Operation>;
  getOperation(id: string): Promise<Operation>;
}
