/** Backups, verifications and restores started from the portal: requests and their progress. */

export type OperationKind = 'backup' | 'verify' | 'restore';
export type OperationStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type ExistingResourcePolicy = 'skip' | 'update' | 'recreate';

/** `POST /backups`: back up the entity's namespace now. */
export interface BackupRequest {
  entityRef: string;
  /** Default: the first configured repository. */
  repository?: string;
  /** Backup name (default `<namespace>-<UTC timestamp>`). */
  name?: string;
}

/** `POST /verifications`: check a backup's integrity, optionally by a restore test into a scratch namespace. */
export interface VerifyRequest {
  entityRef: string;
  /** Backup name or snapshot id. */
  backup: string;
  repository?: string;
  /** Restore into a scratch namespace and compare (default false). */
  restoreTest?: boolean;
}

/**
 * `POST /restores`: restore a backup of the entity. A real restore (`dryRun: false`) must name a
 * succeeded dry run of the same backup, target and policy (`dryRunId`): dry run first.
 */
export interface RestoreRequest {
  entityRef: string;
  backup: string;
  repository?: string;
  /** Default: the backup's namespace. */
  targetNamespace?: string;
  /** Existing objects: `skip` (default), `update` or `recreate`. */
  policy?: ExistingResourcePolicy;
  dryRun: boolean;
  dryRunId?: string;
}

export interface OperationProgress {
  phase: string;
  message: string;
  done?: number;
  total?: number;
  bytesDone?: number;
  bytesTotal?: number;
}

/** A dry run's answer: what the restore would do. */
export interface RestorePlanSummary {
  backup: string;
  targetNamespace: string;
  policy: ExistingResourcePolicy;
  counts: Record<string, number>;
  items: Array<{
    kind: string;
    namespace?: string;
    name: string;
    action: string;
    reason?: string;
    changes?: number;
  }>;
  missingPermissions: string[];
  warnings: string[];
}

export interface Operation {
  id: string;
  kind: OperationKind;
  status: OperationStatus;
  entityRef?: string;
  repository: string;
  cluster?: string;
  namespace?: string;
  /** `backstage:user:default/alice`: recorded in the repository's audit log. */
  actor: string;
  params: Record<string, unknown>;
  progress?: OperationProgress;
  /** backup: `{ backup, snapshot, … }`; verify: `{ result, checks }`; restore: RestorePlanSummary or `{ record, outcome, counts }`. */
  result?: Record<string, unknown>;
  error?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
}
