/** The backup manifest (`meta/backup.json`) and the records of restores and verifications. */
import type { ImageRecord } from './capture.js';
import type { HookRecord, VolumeMode, VolumeRecord } from './integration.js';

export const MANIFEST_VERSION = 1;

export interface ManifestObject {
  path: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** Set for cluster-scoped dependencies. */
  dependencyOf?: string;
}

export interface BackupManifest {
  manifestVersion: typeof MANIFEST_VERSION;
  kind: 'namespace-backup';
  name: string;
  namespace: string;
  cluster: { name: string; context: string; server: string };
  actor: string;
  /** `SelfSubjectReview` or `kubeconfig`. */
  actorSource: string;
  started: string;
  finished: string;
  durationMs: number;
  resources: { total: number; byKind: Record<string, number> };
  /**
   * Cluster-scoped objects captured as dependencies, with why. (The namespaced objects are the
   * snapshot's `resources/…` items: see listBackupObjects; the manifest does not repeat them, so
   * that an unchanged namespace's next backup stores little.)
   */
  dependencies: Array<{ path: string; kind: string; name: string; reason: string }>;
  /** Namespaced types that were listed (also those with no objects), for diffs against the cluster. */
  types: Array<{ group: string; version: string; resource: string; kind: string }>;
  skipped: { total: number; byReason: Record<string, number> };
  volumes: VolumeRecord[];
  images: ImageRecord[];
  hooks: HookRecord[];
  warnings: string[];
  options: {
    includeResources: string[];
    excludeResources: string[];
    labelSelector?: string;
    volumes: VolumeMode;
    failOnWarning: boolean;
    tags: string[];
  };
}

export type ItemOutcome = 'created' | 'updated' | 'unchanged' | 'skipped' | 'failed' | 'planned';

export interface RestoreItemResult {
  path: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  outcome: ItemOutcome;
  /** What the plan said (create / update / recreate / skip / unchanged). */
  action: string;
  reason?: string;
}

export interface RestoreRecord {
  recordVersion: 1;
  kind: 'restore-record';
  name: string;
  source: { backup: string; snapshot: string; namespace: string; cluster?: string };
  targetNamespace: string;
  cluster: { name: string; context: string; server: string };
  actor: string;
  started: string;
  finished: string;
  durationMs: number;
  outcome: 'success' | 'partial' | 'failure';
  counts: Record<ItemOutcome, number>;
  items: RestoreItemResult[];
  volumes: Array<{ pvc: string; outcome: 'restored' | 'failed' | 'skipped'; reason?: string; [key: string]: unknown }>;
  readiness: Array<{ kind: string; name: string; ready: boolean; message?: string }>;
  warnings: string[];
  error?: string;
  options: Record<string, unknown>;
}
