/**
 * Reads and validates `backup.*` at start-up. Every problem is collected and reported at once,
 * each naming its config path, so that a bad app-config.yaml fails with one clear error.
 */
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { Config } from '@backstage/config';
import type { RetentionPolicy } from '@kubectl-backup/engine';
import { parseCron } from '../services/Schedules/cron.js';
import { readDurationMs } from './duration.js';
import type {
  BackupConfig,
  ClusterConfig,
  IngestFrequency,
  RepositoryConfig,
  ScheduleConfig,
} from './types.js';

const NAME = /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/i;
const SCHEDULE_NAME = /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/;
const DEFAULT_RPO_MS = 24 * 3600_000;
const DEFAULT_INGEST_MS = 5 * 60_000;
const DEFAULT_INGEST_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_CACHE_TTL_MS = 5_000;
const RETENTION_COUNTS = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
] as const;

export class BackupConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid backup configuration: ${problems.join('; ')}`);
    this.name = 'BackupConfigError';
  }
}

class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
  /** Runs `fn`; a thrown error becomes a problem and `undefined` is returned. */
  try<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.add((err as Error).message);
      return undefined;
    }
  }
}

/** `component:default/shop` from any entity ref form (kind required). */
export function normalizeEntityRef(ref: string): string {
  return stringifyEntityRef(parseEntityRef(ref));
}

function uniqueNames<T extends { name: string }>(
  items: T[],
  path: string,
  problems: Problems,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (!NAME.test(item.name))
      problems.add(`${path}[${i}].name "${item.name}" must be letters, digits, '-', '_' or '.'`);
    if (seen.has(item.name)) problems.add(`${path}[${i}].name "${item.name}" is used twice`);
    seen.add(item.name);
  });
}

function readRepositories(config: Config, problems: Problems): RepositoryConfig[] {
  const out: RepositoryConfig[] = [];
  (config.getOptionalConfigArray('backup.repositories') ?? []).forEach((c, i) => {
    const path = `backup.repositories[${i}]`;
    const repo = problems.try(() => {
      const r: RepositoryConfig = { name: c.getString('name'), url: c.getString('url') };
      const password = c.getOptionalString('password');
      const passwordFile = c.getOptionalString('passwordFile');
      if (password !== undefined) r.password = password;
      if (passwordFile !== undefined) r.passwordFile = passwordFile;
      if (password === undefined && passwordFile === undefined)
        throw new Error(
          `${path} needs a password (e.g. password: \${BACKUP_REPOSITORY_PASSWORD}) or a passwordFile`,
        );
      if (password !== undefined && passwordFile !== undefined)
        throw new Error(`${path} gives both password and passwordFile: keep one`);
      const creds = c.getOptionalConfig('credentials');
      if (creds) {
        r.credentials = {
          accessKeyId: creds.getString('accessKeyId'),
          secretAccessKey: creds.getString('secretAccessKey'),
        };
        const token = creds.getOptionalString('sessionToken');
        if (token) r.credentials.sessionToken = token;
      }
      return r;
    });
    if (repo) out.push(repo);
  });
  uniqueNames(out, 'backup.repositories', problems);
  return out;
}

/** The Kubernetes plugin's cluster of that name (`kubernetes.clusterLocatorMethods[].clusters[]`). */
function kubernetesPluginCluster(config: Config, name: string): ClusterConfig | undefined {
  for (const method of config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? []) {
    for (const c of method.getOptionalConfigArray('clusters') ?? []) {
      if (c.getOptionalString('name') !== name) continue;
      const out: ClusterConfig = { name, url: c.getString('url') };
      const token = c.getOptionalString('serviceAccountToken');
      const caData = c.getOptionalString('caData');
      const skip = c.getOptionalBoolean('skipTLSVerify');
      if (token) out.token = token;
      if (caData) out.caData = caData;
      if (skip !== undefined) out.skipTLSVerify = skip;
      return out;
    }
  }
  return undefined;
}

function readClusters(config: Config, problems: Problems): ClusterConfig[] {
  const out: ClusterConfig[] = [];
  (config.getOptionalConfigArray('backup.clusters') ?? []).forEach((c, i) => {
    const path = `backup.clusters[${i}]`;
    const cluster = problems.try((): ClusterConfig => {
      const name = c.getString('name');
      if (c.getOptionalBoolean('fromKubernetesPlugin')) {
        const found = kubernetesPluginCluster(config, name);
        if (!found)
          throw new Error(
            `${path} (${name}) reuses the Kubernetes plugin's cluster, but kubernetes.clusterLocatorMethods[].clusters[] has none named "${name}"`,
          );
        return found;
      }
      const url = c.getOptionalString('url');
      const kubeconfig = c.getOptionalString('kubeconfig');
      if (!url === !kubeconfig)
        throw new Error(`${path} (${name}) needs either url (with token/caData) or kubeconfig`);
      const cl: ClusterConfig = { name };
      for (const key of ['url', 'token', 'caData', 'kubeconfig', 'context'] as const) {
        const v = c.getOptionalString(key);
        if (v !== undefined) cl[key] = v;
      }
      const skip = c.getOptionalBoolean('skipTLSVerify');
      if (skip !== undefined) cl.skipTLSVerify = skip;
      if (url && !/^https?:\/\//.test(url))
        throw new Error(`${path}.url "${url}" is not an http(s) URL`);
      return cl;
    });
    if (cluster) out.push(cluster);
  });
  uniqueNames(out, 'backup.clusters', problems);
  return out;
}

function readIngest(config: Config, problems: Problems): BackupConfig['ingest'] {
  let frequency: IngestFrequency = { milliseconds: DEFAULT_INGEST_MS };
  const cron = config.getOptionalString('backup.ingest.frequency.cron');
  if (cron !== undefined) {
    const why = cronProblem(cron);
    if (why) problems.add(`backup.ingest.frequency.cron: ${why}`);
    frequency = { cron };
  } else {
    const ms = problems.try(() =>
      readDurationMs(config, 'backup.ingest.frequency', DEFAULT_INGEST_MS),
    );
    if (ms !== undefined) frequency = { milliseconds: ms };
  }
  const timeoutMs =
    problems.try(() =>
      readDurationMs(config, 'backup.ingest.timeout', DEFAULT_INGEST_TIMEOUT_MS),
    ) ?? DEFAULT_INGEST_TIMEOUT_MS;
  return { frequency, timeoutMs };
}

function readRpo(config: Config, problems: Problems): BackupConfig['rpo'] {
  const defaultMs =
    problems.try(() => readDurationMs(config, 'backup.rpo.default', DEFAULT_RPO_MS)) ??
    DEFAULT_RPO_MS;
  const entities = new Map<string, number>();
  const per = config.getOptionalConfig('backup.rpo.entities');
  for (const key of per?.keys() ?? []) {
    const ref = problems.try(() => {
      try {
        return normalizeEntityRef(key);
      } catch (err) {
        throw new Error(
          `backup.rpo.entities: "${key}" is not an entity ref (${(err as Error).message})`,
        );
      }
    });
    const ms = problems.try(() => readDurationMs(per!, key, DEFAULT_RPO_MS));
    if (ref && ms !== undefined) entities.set(ref, ms);
  }
  return { defaultMs, entities };
}

/** Why `text` is not a cron expression (5 fields, or 6 with seconds), or undefined. */
export function cronProblem(text: string): string | undefined {
  try {
    parseCron(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

function readRetention(c: Config, path: string): RetentionPolicy | undefined {
  const r = c.getOptionalConfig('retention');
  if (!r) return undefined;
  const policy: RetentionPolicy = {};
  for (const key of RETENTION_COUNTS) {
    const n = r.getOptionalNumber(key);
    if (n === undefined) continue;
    if (!Number.isInteger(n) || (n < 1 && n !== -1))
      throw new Error(`${path}.retention.${key} must be a positive integer (or -1 for unlimited)`);
    policy[key] = n;
  }
  const within = r.getOptionalString('keepWithin');
  if (within !== undefined) {
    if (!/^(\d+[yYmwdh])+$/.test(within))
      throw new Error(
        `${path}.retention.keepWithin "${within}" is not a duration like 7d, 2w, 1y2m`,
      );
    policy.keepWithin = within;
  }
  if (Object.keys(policy).length === 0)
    throw new Error(`${path}.retention keeps nothing: give keepLast, keepDaily, … or keepWithin`);
  return policy;
}

function readSchedules(
  config: Config,
  repositories: RepositoryConfig[],
  clusters: ClusterConfig[],
  problems: Problems,
): ScheduleConfig[] {
  const out: ScheduleConfig[] = [];
  (config.getOptionalConfigArray('backup.schedules') ?? []).forEach((c, i) => {
    const path = `backup.schedules[${i}]`;
    const schedule = problems.try((): ScheduleConfig => {
      const cron = c.getString('cron');
      const why = cronProblem(cron);
      if (why) throw new Error(`${path}.cron: ${why} (e.g. "0 2 * * *")`);
      const entityText = c.getOptionalString('entity');
      const namespace = c.getOptionalString('namespace');
      const cluster = c.getOptionalString('cluster');
      if (!entityText === !namespace) throw new Error(`${path} needs either entity or namespace`);
      if (cluster !== undefined && !clusters.some((cl) => cl.name === cluster))
        throw new Error(`${path}.cluster "${cluster}" is not in backup.clusters`);
      const repository = c.getOptionalString('repository') ?? repositories[0]?.name;
      if (!repository)
        throw new Error(`${path} has no repository and backup.repositories is empty`);
      if (!repositories.some((r) => r.name === repository))
        throw new Error(`${path}.repository "${repository}" is not in backup.repositories`);
      const s: ScheduleConfig = { name: c.getOptionalString('name') ?? '', cron, repository };
      if (entityText) {
        try {
          s.entity = normalizeEntityRef(entityText);
        } catch (err) {
          throw new Error(
            `${path}.entity "${entityText}" is not an entity ref (${(err as Error).message})`,
          );
        }
      }
      if (namespace) s.namespace = namespace;
      if (cluster) s.cluster = cluster;
      const retention = readRetention(c, path);
      if (retention) s.retention = retention;
      if (!s.name) s.name = s.entity ? parseEntityRef(s.entity).name : s.namespace!;
      return s;
    });
    if (schedule) out.push(schedule);
  });
  const seen = new Set<string>();
  out.forEach((s, i) => {
    if (!SCHEDULE_NAME.test(s.name))
      problems.add(
        `backup.schedules[${i}].name "${s.name}" must be lower-case letters, digits, '-' or '.' (it names backups)`,
      );
    if (seen.has(s.name))
      problems.add(
        `backup.schedules[${i}]: another schedule is named "${s.name}": give each a distinct name`,
      );
    seen.add(s.name);
  });
  return out;
}

/** Reads `backup.*`; throws BackupConfigError listing every problem. */
export function readBackupConfig(config: Config): BackupConfig {
  const problems = new Problems();
  const repositories = readRepositories(config, problems);
  const clusters = readClusters(config, problems);
  const result: BackupConfig = {
    repositories,
    clusters,
    ingest: readIngest(config, problems),
    rpo: readRpo(config, problems),
    schedules: readSchedules(config, repositories, clusters, problems),
    metrics: {
      public: problems.try(() => config.getOptionalBoolean('backup.metrics.public')) ?? false,
    },
    cache: {
      ttlMs:
        problems.try(() =>
          readDurationMs(config, 'backup.cache.ttl', DEFAULT_CACHE_TTL_MS, { allowZero: true }),
        ) ?? DEFAULT_CACHE_TTL_MS,
    },
  };
  if (problems.list.length > 0) throw new BackupConfigError(problems.list);
  return result;
}
