/** The plugin's configuration after validation (see config.d.ts for the YAML form). */
import type { RetentionPolicy } from '@kubectl-backup/engine';

export interface RepositoryConfig {
  name: string;
  url: string;
  password?: string;
  passwordFile?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface ClusterConfig {
  name: string;
  url?: string;
  token?: string;
  caData?: string;
  skipTLSVerify?: boolean;
  kubeconfig?: string;
  context?: string;
}

export interface ScheduleConfig {
  /** Unique; scheduled backups are tagged `schedule=<name>` and retention applies to those only. */
  name: string;
  entity?: string;
  namespace?: string;
  cluster?: string;
  cron: string;
  repository: string;
  retention?: RetentionPolicy;
}

export type IngestFrequency = { cron: string } | { milliseconds: number };

export interface BackupConfig {
  repositories: RepositoryConfig[];
  clusters: ClusterConfig[];
  ingest: { frequency: IngestFrequency; timeoutMs: number };
  rpo: { defaultMs: number; entities: Map<string, number> };
  schedules: ScheduleConfig[];
  metrics: { public: boolean };
  /** How long read caches (entity status, list pages and totals, catalog and permission answers) keep an answer; 0: off. */
  cache: { ttlMs: number };
}
