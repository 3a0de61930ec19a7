/**
 * The REST API's shapes (see plugins/backup-backend/openapi.yaml), shared by the backend that
 * serves them and the frontend that reads them. Times are ISO-8601 strings, sizes bytes.
 */

/** The plugin id: the backend serves `/api/backup`. */
export const BACKUP_PLUGIN_ID = 'backup';

/** The Kubernetes plugin's annotation naming an entity's namespace. */
export const KUBERNETES_NAMESPACE_ANNOTATION = 'backstage.io/kubernetes-namespace';
/** Our annotation naming the cluster (a `backup.clusters[].name`) of an entity's namespace. */
export const BACKUP_CLUSTER_ANNOTATION = 'kubectl-backup.io/cluster';

/** Where an entity's workloads run. Without a cluster, backups of the namespace in any cluster count. */
export interface BackupTarget {
  namespace: string;
  cluster?: string;
}

/** A page of a list. */
export interface Page<T> {
  items: T[];
  /** Items matching the filter (all pages). */
  total: number;
  offset: number;
  limit: number;
}

export interface Verification {
  result: 'passed' | 'failed' | (string & {});
  time: string;
  /** The verify record's name. */
  record: string;
}

/** One namespace backup (an engine snapshot) as ingested from a repository. */
export interface BackupSummary {
  repository: string;
  /** The engine snapshot id (64 hex characters). */
  snapshot: string;
  /** The backup name, unique in its repository. */
  name: string;
  namespace: string;
  cluster: string;
  time: string;
  durationMs?: number;
  actor: string;
  resources: number;
  volumes: number;
  volumeBytes: number;
  /** Plaintext bytes the backup references. */
  sizeTotal: number;
  /** Plaintext bytes new to the repository when it was made. */
  sizeAdded: number;
  /** Bytes written to storage (compressed, encrypted). */
  storedAdded: number;
  warnings: number;
  tags: string[];
  verification?: Verification;
  /** Set when the backup's manifest could not be read. */
  error?: string;
}

export interface BackupDetails extends BackupSummary {
  kinds: Array<{ kind: string; count: number }>;
  volumeList: Array<{
    pvc: string;
    method?: string;
    storageClass?: string;
    capacity?: string;
    bytes?: number;
  }>;
  images: Array<{
    container: string;
    image: string;
    digest?: string;
    owner?: string;
    pod?: string;
  }>;
  warningList: string[];
  restores: RestoreSummary[];
}

export type RestoreOutcome = 'success' | 'partial' | 'failure' | (string & {});

/** A restore record (kind `restore-record` in the repository). */
export interface RestoreSummary {
  repository: string;
  /** The record's snapshot id. */
  snapshot: string;
  name: string;
  /** The backup restored. */
  source: { backup: string; snapshot: string; namespace: string };
  targetNamespace: string;
  cluster: string;
  actor: string;
  time: string;
  durationMs?: number;
  outcome: RestoreOutcome;
  counts: Record<string, number>;
}

export interface RestoreItemResult {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  action: string;
  outcome: string;
  reason?: string;
}

export interface RestoreDetails extends RestoreSummary {
  items: RestoreItemResult[];
  warnings: string[];
  error?: string;
}

/** One entry of a repository's audit log. */
export interface AuditEvent {
  repository: string;
  seq: number;
  time: string;
  actor: string;
  action: string;
  target?: string;
  outcome: string;
  namespace?: string;
  cluster?: string;
  host: string;
  details?: Record<string, unknown>;
}

/** The audit chain's state per repository, as last verified by the ingest. */
export interface AuditChainState {
  repository: string;
  ok: boolean;
  entries: number;
  verifiedAt?: string;
  /** The first bad entry, when the chain is broken. */
  problem?: { seq: number; reason: string };
}

export type RpoState = 'ok' | 'late' | 'none';

/** An entity's backup status. */
export interface EntityStatus {
  entityRef: string;
  /** False when the entity has no namespace annotation: not an error, nothing to show. */
  configured: boolean;
  /** Why the entity is not configured. */
  reason?: string;
  target?: BackupTarget;
  rpo?: {
    /** The recovery point objective in seconds. */
    seconds: number;
    /** `ok`: the last backup is younger; `late`: older; `none`: no backup. */
    state: RpoState;
  };
  lastBackup?: BackupSummary;
  /** Seconds since the last backup. */
  ageSeconds?: number;
  lastFailure?: { time: string; actor: string; message?: string; repository: string };
  nextScheduledRun?: string;
  backups: number;
  size?: {
    /** Plaintext bytes of the last backup. */
    lastBytes: number;
    /** Plaintext bytes of every backup of the target, summed. */
    logicalBytes: number;
    /** Bytes the backups added to storage (compressed, encrypted, deduplicated). */
    storedBytes: number;
    /** logicalBytes / storedBytes (1 when nothing is stored). */
    dedupRatio: number;
  };
  verification?: Verification;
}

export interface RepositoryState {
  name: string;
  /** The location without credentials. */
  location: string;
  lastIngest?: string;
  lastError?: string;
  backups: number;
  restores: number;
  auditEntries: number;
  auditChain?: AuditChainState;
}

/** A configured backup schedule (`backup.schedules`) and its runs. */
export interface ScheduleSummary {
  name: string;
  entityRef?: string;
  namespace?: string;
  cluster?: string;
  /** UTC crontab. */
  cron: string;
  repository: string;
  retention?: Record<string, number | string>;
  nextRun?: string;
  lastRun?: ScheduleRun;
}

export interface ScheduleRun {
  /** The cron time the run is for. */
  slot: string;
  startedAt: string;
  finishedAt?: string;
  outcome?: 'success' | 'failure' | (string & {});
  backup?: string;
  /** Backups removed by the retention policy after the run. */
  forgotten?: number;
  error?: string;
}
