/**
 * Prometheus metrics (text format through prom-client's registry), named after Velero's and
 * labelled by namespace, cluster and entity. They are computed from the database at scrape time,
 * so every replica answers the same; the counters count audit log entries, which only grow.
 */
import { Registry } from 'prom-client';
import {
  DURATION_BUCKETS,
  type MetricsQueries,
  type OutcomeCount,
  type TargetAggregate,
} from '../../database/MetricsQueries.js';

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** Maps a backup's namespace and cluster to the entity it belongs to (`''` when none). */
export type EntityLookup = () => Promise<(namespace: string, cluster: string) => string>;

export interface MetricsService {
  contentType: string;
  metrics(): Promise<string>;
}

/** A metric whose samples are computed on each scrape (the shape prom-client's Registry formats). */
function computed(
  registry: Registry,
  name: string,
  help: string,
  type: 'gauge' | 'counter' | 'histogram',
  samples: () => Promise<Sample[]>,
) {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name, help, type, aggregator: 'sum', values: await samples() };
    },
  };
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

const OUTCOME_METRICS: Array<{ name: string; help: string; action: string; outcomes: string[] }> = [
  {
    name: 'backup_success_total',
    help: 'Backups that succeeded (audit log entries backup.create success)',
    action: 'backup.create',
    outcomes: ['success'],
  },
  {
    name: 'backup_failure_total',
    help: 'Backups that failed or were canceled (audit log)',
    action: 'backup.create',
    outcomes: ['failure', 'canceled'],
  },
  {
    name: 'backup_verification_success_total',
    help: 'Verifications that passed (audit log backup.verify)',
    action: 'backup.verify',
    outcomes: ['success'],
  },
  {
    name: 'backup_verification_failure_total',
    help: 'Verifications that failed (audit log backup.verify)',
    action: 'backup.verify',
    outcomes: ['failure'],
  },
  {
    name: 'restore_success_total',
    help: 'Restores that succeeded (audit log restore.create), by target namespace',
    action: 'restore.create',
    outcomes: ['success'],
  },
  {
    name: 'restore_partial_failure_total',
    help: 'Restores that partially failed (audit log)',
    action: 'restore.create',
    outcomes: ['partial'],
  },
  {
    name: 'restore_failure_total',
    help: 'Restores that failed or were denied (audit log)',
    action: 'restore.create',
    outcomes: ['failure', 'denied'],
  },
];

export function createMetricsService(options: {
  queries: MetricsQueries;
  entityOf: EntityLookup;
}): MetricsService {
  const { queries } = options;
  const registry = new Registry();

  // One scrape reads each aggregate once, whatever the number of metrics using it.
  let scrape:
    | Promise<{
        targets: TargetAggregate[];
        outcomes: OutcomeCount[];
        entityOf: (ns: string, cluster: string) => string;
      }>
    | undefined;
  const data = () =>
    (scrape ??= Promise.all([queries.targets(), queries.outcomes(), options.entityOf()]).then(
      ([targets, outcomes, entityOf]) => ({ targets, outcomes, entityOf }),
    ));
  const labelsOf = (
    entityOf: (ns: string, c: string) => string,
    namespace: string,
    cluster: string,
  ): Labels => ({ namespace, cluster, entity: entityOf(namespace, cluster) });

  const perTarget = (name: string, help: string, value: (t: TargetAggregate) => number) =>
    computed(registry, name, help, 'gauge', async () => {
      const d = await data();
      return d.targets.map((t) => ({
        labels: labelsOf(d.entityOf, t.namespace, t.cluster),
        value: value(t),
      }));
    });

  perTarget(
    'backup_last_successful_timestamp',
    'Time of the newest backup in the repositories (seconds since the epoch)',
    (t) => Date.parse(t.lastTime) / 1000,
  );
  perTarget('backup_size_bytes', 'Plaintext size of the newest backup', (t) => t.lastSizeBytes);
  perTarget('backup_total', 'Backups in the repositories', (t) => t.backups);

  computed(
    registry,
    'backup_duration_seconds',
    'How long backups in the repositories took',
    'histogram',
    async () => {
      const d = await data();
      return d.targets.flatMap((t) => {
        const labels = labelsOf(d.entityOf, t.namespace, t.cluster);
        return [
          ...DURATION_BUCKETS.map((le, i) => ({
            labels: { ...labels, le: String(le) },
            value: t.durationBuckets[i]!,
            metricName: 'backup_duration_seconds_bucket',
          })),
          {
            labels: { ...labels, le: '+Inf' },
            value: t.durationCount,
            metricName: 'backup_duration_seconds_bucket',
          },
          { labels, value: t.durationSumSeconds, metricName: 'backup_duration_seconds_sum' },
          { labels, value: t.durationCount, metricName: 'backup_duration_seconds_count' },
        ];
      });
    },
  );

  for (const m of OUTCOME_METRICS) {
    computed(registry, m.name, m.help, 'counter', async () => {
      const d = await data();
      const sums = new Map<string, Sample>();
      for (const o of d.outcomes) {
        if (o.action !== m.action || !m.outcomes.includes(o.outcome)) continue;
        const key = `${o.cluster}/${o.namespace}`;
        const s = sums.get(key) ?? {
          labels: labelsOf(d.entityOf, o.namespace, o.cluster),
          value: 0,
        };
        s.value += o.count;
        sums.set(key, s);
      }
      return [...sums.values()];
    });
  }

  computed(
    registry,
    'backup_repository_audit_chain_ok',
    "1 when the repository's audit log verified at the last ingest, 0 when broken",
    'gauge',
    async () =>
      (await queries.repositories())
        .filter((r) => r.auditChainOk !== undefined)
        .map((r) => ({ labels: { repository: r.repository }, value: r.auditChainOk ? 1 : 0 })),
  );
  computed(
    registry,
    'backup_repository_last_ingest_timestamp',
    'Time of the last successful ingest of the repository (seconds since the epoch)',
    'gauge',
    async () =>
      (await queries.repositories())
        .filter((r) => r.lastSuccessAt)
        .map((r) => ({
          labels: { repository: r.repository },
          value: Date.parse(r.lastSuccessAt!) / 1000,
        })),
  );

  return {
    contentType: registry.contentType,
    async metrics() {
      try {
        return await registry.metrics();
      } finally {
        scrape = undefined;
      }
    },
  };
}
