/** Aggregates for /metrics, grouped by namespace and cluster (one query each, whatever the row count). */
import type { Knex } from 'knex';
import { num, optStr } from './values.js';

/** Upper bounds (seconds) of backup_duration_seconds' buckets, as Velero's. */
export const DURATION_BUCKETS = [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

export interface TargetAggregate {
  namespace: string;
  cluster: string;
  backups: number;
  lastTime: string;
  lastSizeBytes: number;
  /** Cumulative counts per DURATION_BUCKETS entry, plus sum and count of known durations. */
  durationBuckets: number[];
  durationSumSeconds: number;
  durationCount: number;
}

export interface OutcomeCount {
  action: string;
  outcome: string;
  namespace: string;
  cluster: string;
  count: number;
}

export interface RepositoryHealth {
  repository: string;
  auditChainOk?: boolean;
  lastSuccessAt?: string;
}

type Row = Record<string, unknown>;

export class MetricsQueries {
  constructor(private readonly knex: Knex) {}

  async targets(): Promise<TargetAggregate[]> {
    const k = this.knex;
    const bucketColumns = DURATION_BUCKETS.map((s, i) =>
      k.raw(`sum(case when duration_ms <= ? then 1 else 0 end) as b${i}`, [s * 1000]),
    );
    const aggregates = (await k('backups')
      .select('namespace', 'cluster')
      .count({ backups: '*' })
      .max({ last_time: 'time' })
      .sum({ duration_sum: 'duration_ms' })
      .count({ duration_count: 'duration_ms' })
      .select(bucketColumns)
      .groupBy('namespace', 'cluster')) as Row[];
    const latest = (await k('backups as b')
      .join(
        k('backups')
          .select('namespace', 'cluster')
          .max({ t: 'time' })
          .groupBy('namespace', 'cluster')
          .as('m'),
        function on() {
          this.on('b.namespace', '=', 'm.namespace')
            .andOn('b.cluster', '=', 'm.cluster')
            .andOn('b.time', '=', 'm.t');
        },
      )
      .select('b.namespace', 'b.cluster', 'b.size_total')) as Row[];
    const sizes = new Map(latest.map((r) => [`${r.cluster}/${r.namespace}`, num(r.size_total)]));
    return aggregates.map((r) => ({
      namespace: String(r.namespace),
      cluster: String(r.cluster),
      backups: num(r.backups),
      lastTime: String(r.last_time),
      lastSizeBytes: sizes.get(`${r.cluster}/${r.namespace}`) ?? 0,
      durationBuckets: DURATION_BUCKETS.map((_, i) => num(r[`b${i}`])),
      durationSumSeconds: num(r.duration_sum) / 1000,
      durationCount: num(r.duration_count),
    }));
  }

  /** Audit entries of backups and restores by outcome: the log is append-only, so these only grow. */
  async outcomes(): Promise<OutcomeCount[]> {
    const rows = (await this.knex('audit_events')
      .select('action', 'outcome', 'namespace', 'cluster')
      .count({ n: '*' })
      .whereIn('action', ['backup.create', 'restore.create', 'backup.verify'])
      .groupBy('action', 'outcome', 'namespace', 'cluster')) as Row[];
    return rows.map((r) => ({
      action: String(r.action),
      outcome: String(r.outcome),
      namespace: String(r.namespace ?? ''),
      cluster: String(r.cluster ?? ''),
      count: num(r.n),
    }));
  }

  async repositories(): Promise<RepositoryHealth[]> {
    const rows = (await this.knex('ingest_cursors').select(
      'repository',
      'audit_chain_ok',
      'last_success_at',
    )) as Row[];
    return rows.map((r) => {
      const h: RepositoryHealth = { repository: String(r.repository) };
      if (r.audit_chain_ok !== null && r.audit_chain_ok !== undefined)
        h.auditChainOk = Boolean(r.audit_chain_ok);
      const last = optStr(r.last_success_at);
      if (last) h.lastSuccessAt = last;
      return h;
    });
  }
}
