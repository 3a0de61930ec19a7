/**
 * The TUI's data layer: everything the screens show or do goes through this interface. The
 * real implementation (cluster-service.ts) calls the same @kubectl-backup/k8s and engine
 * functions as the CLI commands; component tests pass fixed data instead of a cluster.
 */
import type { AuditEntry, VerifyAuditResult } from '@kubectl-backup/engine';
import type {
  BackupDescription,
  BackupNamespaceResult,
  BackupSummary,
  ExistingPolicy,
  K8sProgressEvent,
  NamespaceDiff,
  RestoreNamespaceResult,
  RestorePlan,
  VerifyResult,
} from '@kubectl-backup/k8s';

/** Who and where, for the header. */
export interface HeaderInfo {
  context: string;
  cluster: string;
  server: string;
  /** The user as the API server sees it (SelfSubjectReview), else the kubeconfig's. */
  user: string;
  userSource: 'SelfSubjectReview' | 'kubeconfig';
  /** Printable repository location (no secrets). */
  repository: string;
  health: RepoHealth;
}

export interface RepoHealth {
  /** Repository locks (not the audit log's): none, live ones, or only expired ones. */
  lock: 'unlocked' | 'locked' | 'stale';
  /** "an exclusive lock held by alice@host (pid 42), …" for the first lock. */
  lockDetail?: string;
  audit: VerifyAuditResult;
}

/** ok: a backup within the RPO; stale: older; failed: the last attempt failed; never: none. */
export type NamespaceStatus = 'ok' | 'stale' | 'failed' | 'never';

export interface NamespaceRow {
  name: string;
  /** forbidden: the user may not list pods there (a backup would be refused or empty). */
  access: 'allowed' | 'forbidden';
  /** Whether the namespace exists in the cluster (`unknown` when namespaces cannot be listed). */
  inCluster: boolean | 'unknown';
  /** Backups in the repository. */
  backups: number;
  last?: { name: string; time: string; sizeTotal: number };
  /** Time of the last failed backup attempt (audit log), when newer than the last backup. */
  failedAt?: string;
  status: NamespaceStatus;
  /** Cron expressions of the namespace's schedules; undefined when schedules are unknown. */
  schedules?: string[];
}

export interface NamespaceListing {
  rows: NamespaceRow[];
  /** Shown above the list, e.g. why the list is partial. */
  notice?: string;
}

export interface RestoreHistoryRow {
  name: string;
  time: string;
  /** The backup restored. */
  source: string;
  targetNamespace: string;
  outcome: string;
}

export interface NamespaceDetails {
  namespace: string;
  /** Newest first. */
  backups: BackupSummary[];
  /** Restores into this namespace or of its backups, newest first. */
  restores: RestoreHistoryRow[];
  /** Audit entries about this namespace, newest first. */
  audit: AuditEntry[];
  /** Verification of the whole audit chain. */
  auditChain: VerifyAuditResult;
}

export interface RestoreRequest {
  backup: string;
  targetNamespace: string;
  includeResources?: string[];
  excludeResources?: string[];
  existing: ExistingPolicy;
  volumes: boolean;
}

export interface RestorePreview {
  plan: RestorePlan;
  /** Objects in the target namespace the backup does not have (a restore leaves them). */
  notInBackup: NamespaceDiff['objects'];
  /** Why notInBackup could not be computed, if so. */
  notInBackupError?: string;
}

export type VerifyMode = 'quick' | 'read-data' | 'restore-test';

export interface OperationOptions {
  signal?: AbortSignal;
  onProgress?: (event: K8sProgressEvent) => void;
}

export interface TuiService {
  header(signal?: AbortSignal): Promise<HeaderInfo>;
  namespaces(signal?: AbortSignal): Promise<NamespaceListing>;
  namespace(name: string, signal?: AbortSignal): Promise<NamespaceDetails>;
  describe(backup: string, signal?: AbortSignal): Promise<BackupDescription>;
  /** Backs up a namespace now (audited by the library); cancelled through `signal`. */
  backup(namespace: string, options: OperationOptions): Promise<BackupNamespaceResult>;
  /** Dry run: the plan and what the target has that the backup lacks. Changes nothing. */
  planRestore(request: RestoreRequest, signal?: AbortSignal): Promise<RestorePreview>;
  restore(request: RestoreRequest, options: OperationOptions): Promise<RestoreNamespaceResult>;
  verify(backup: string, mode: VerifyMode, options: OperationOptions): Promise<VerifyResult>;
  /**
   * Deletes a backup from the repository (audited); its data goes with the next prune.
   * Resolves to warnings (an audit entry that could not be written).
   */
  deleteBackup(backup: string): Promise<{ warnings: string[] }>;
}
