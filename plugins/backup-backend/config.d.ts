import type { HumanDuration } from '@backstage/types';

/** Configuration of the kubectl-backup backend plugin (`@kubectl-backup/plugin-backup-backend`). */
export interface Config {
  backup?: {
    /** Backup repositories the portal ingests and writes to. */
    repositories?: Array<{
      /** Name used in the API, in schedules and in the portal. Unique. */
      name: string;
      /**
       * Location: a directory path, `file:///path`, or
       * `s3://bucket/prefix?endpoint=URL&region=R&forcePathStyle=true`.
       */
      url: string;
      /**
       * The repository password. Give it by environment reference: `password: ${BACKUP_REPOSITORY_PASSWORD}`.
       * @visibility secret
       */
      password?: string;
      /** A file holding the password (its single trailing newline is ignored). */
      passwordFile?: string;
      /** S3 credentials; without them the AWS SDK's default chain (environment, profile, instance role) is used. */
      credentials?: {
        /** @visibility secret */
        accessKeyId: string;
        /** @visibility secret */
        secretAccessKey: string;
        /** @visibility secret */
        sessionToken?: string;
      };
    }>;
    /** Clusters the portal backs up and restores. A cluster gives `url` (+ token/caData), or `kubeconfig`, or `fromKubernetesPlugin`. */
    clusters?: Array<{
      /** Name used in the entity annotation `kubectl-backup.io/cluster` and in records. Unique. */
      name: string;
      /** API server URL. */
      url?: string;
      /**
       * Bearer token of the service account the backend acts as.
       * @visibility secret
       */
      token?: string;
      /** Base64 PEM of the API server's CA. */
      caData?: string;
      /** Do not check the API server's certificate (test clusters only). */
      skipTLSVerify?: boolean;
      /** A kubeconfig file instead of url/token. */
      kubeconfig?: string;
      /** The kubeconfig context (default: its current context). */
      context?: string;
      /** Reuse the Kubernetes plugin's cluster of the same name (`kubernetes.clusterLocatorMethods[].clusters[]`, type `config`). */
      fromKubernetesPlugin?: boolean;
    }>;
    ingest?: {
      /** How often repositories are read (default 5 minutes). A duration or `{ cron: '…' }`. */
      frequency?: HumanDuration | string | { cron: string };
      /** Longest an ingest run may take (default 10 minutes). */
      timeout?: HumanDuration | string;
    };
    /** Recovery point objectives: how old the newest backup may be. */
    rpo?: {
      /** Default 24 hours. */
      default?: HumanDuration | string;
      /** Per entity ref (`component:default/shop`). */
      entities?: { [entityRef: string]: HumanDuration | string };
    };
    metrics?: {
      /**
       * Serve /api/backup/metrics without credentials (for a Prometheus inside the cluster).
       * Default false: the scraper needs a token (backend.auth.externalAccess) allowed to read all backups.
       */
      public?: boolean;
    };
    /** Read caches of the API. */
    cache?: {
      /**
       * How long an answer is reused (default 5 seconds; `0` turns every cache off): an entity's
       * status, list pages and list totals (cleared when this replica ingests new data; other
       * replicas show it after at most this time), and per caller the catalog's entities and the
       * permission decisions (a revoked permission takes effect after at most this time). Same
       * format as ingest.frequency: `5s`, `PT5S`, `{ seconds: 5 }`.
       */
      ttl?: HumanDuration | string | 0;
    };
    /** Scheduled backups. */
    schedules?: Array<{
      /** Unique name (default: the entity's name or the namespace); its backups are tagged `schedule=<name>`. */
      name?: string;
      /** An entity ref whose namespace (and cluster) is backed up; or give namespace + cluster. */
      entity?: string;
      namespace?: string;
      cluster?: string;
      /** Crontab in UTC: 5 fields, or 6 with seconds first; `@daily`-style macros too. */
      cron: string;
      /** Repository name (default: the first). */
      repository?: string;
      /** Applied after each run, to this namespace's backups (restic semantics). */
      retention?: {
        keepLast?: number;
        keepHourly?: number;
        keepDaily?: number;
        keepWeekly?: number;
        keepMonthly?: number;
        keepYearly?: number;
        keepWithin?: string;
      };
    }>;
  };
}
