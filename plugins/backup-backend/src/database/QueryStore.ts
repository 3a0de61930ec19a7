/** Reads for the REST API: filtered, sorted, paginated lists and details. */
import type { Knex } from 'knex';
import type {
  AuditEvent,
  BackupDetails,
  BackupSortField,
  BackupSummary,
  BackupTarget,
  Page,
  RepositoryState,
  RestoreDetails,
  RestoreSummary,
} from '@kubectl-backup/plugin-backup-common';
import { CountCache } from './CountCache.js';
import type { PageRequest, TargetFilter } from './types.js';
import { compact, json, num, optNum, optStr } from './values.js';

type Row = Record<string, unknown>;

const SORT_COLUMNS: Record<BackupSortField, string> = {
  time: 'time',
  name: 'name',
  namespace: 'namespace',
  size: 'size_total',
  duration: 'duration_ms',
};

/** `where (namespace = ? [and cluster = ?]) or …` over the given columns; no targets → no rows. */
function whereTargets(
  q: Knex.QueryBuilder,
  targets: BackupTarget[] | undefined,
  nsColumn: string,
  clusterColumn: string,
): void {
  if (!targets) return;
  if (targets.length === 0) {
    q.whereRaw('1 = 0');
    return;
  }
  q.where((outer) => {
    for (const t of targets) {
      outer.orWhere((w) => {
        w.where(nsColumn, t.namespace);
        if (t.cluster) w.where(clusterColumn, t.cluster);
      });
    }
  });
}

function whereCommon(
  q: Knex.QueryBuilder,
  f: TargetFilter,
  nsColumn: string,
  clusterColumn: string,
): void {
  if (f.repository) q.where('repository', f.repository);
  if (f.since) q.where('time', '>=', f.since);
  if (f.until) q.where('time', '<', f.until);
  whereTargets(q, f.targets, nsColumn, clusterColumn);
}

function toBackup(r: Row): BackupSummary {
  return compact({
    repository: String(r.repository),
    snapshot: String(r.snapshot),
    name: String(r.name),
    namespace: String(r.namespace),
    cluster: String(r.cluster),
    time: String(r.time),
    durationMs: optNum(r.duration_ms),
    actor: String(r.actor),
    resources: num(r.resources),
    volumes: num(r.volumes),
    volumeBytes: num(r.volume_bytes),
    sizeTotal: num(r.size_total),
    sizeAdded: num(r.size_added),
    storedAdded: num(r.stored_added),
    warnings: num(r.warnings),
    tags: json<string[]>(r.tags, []),
    verification: r.verification_result
      ? {
          result: String(r.verification_result),
          time: String(r.verification_time),
          record: String(r.verification_record),
        }
      : undefined,
    error: optStr(r.error),
  });
}

function toRestore(r: Row): RestoreSummary {
  return compact({
    repository: String(r.repository),
    snapshot: String(r.snapshot),
    name: String(r.name),
    source: {
      backup: String(r.source_backup),
      snapshot: String(r.source_snapshot),
      namespace: String(r.source_namespace),
    },
    targetNamespace: String(r.target_namespace),
    cluster: String(r.cluster),
    actor: String(r.actor),
    time: String(r.time),
    durationMs: optNum(r.duration_ms),
    outcome: String(r.outcome),
    counts: json<Record<string, number>>(r.counts, {}),
  });
}

function toAudit(r: Row): AuditEvent {
  return compact({
    repository: String(r.repository),
    seq: num(r.seq),
    time: String(r.time),
    actor: String(r.actor),
    action: String(r.action),
    target: optStr(r.target),
    outcome: String(r.outcome),
    namespace: optStr(r.namespace),
    cluster: optStr(r.cluster),
    host: String(r.host),
    details: r.details ? json<Record<string, unknown>>(r.details, {}) : undefined,
  });
}

async function page<T>(
  counts: CountCache,
  q: Knex.QueryBuilder,
  p: PageRequest,
  map: (r: Row) => T,
  order: (q: Knex.QueryBuilder) => void,
): Promise<Page<T>> {
  const countQuery = q.clone().clearSelect().clearOrder().count({ count: '*' });
  const rows = q.clone();
  order(rows);
  const [total, found] = await Promise.all([
    counts.count(countQuery, async () =>
      num(((await countQuery) as Array<{ count: unknown }>)[0]?.count),
    ),
    rows.offset(p.offset).limit(p.limit) as Promise<Row[]>,
  ]);
  return { items: found.map(map), total, offset: p.offset, limit: p.limit };
}

export interface TargetStats {
  count: number;
  logicalBytes: number;
  storedBytes: number;
  last?: BackupSummary;
}

export class QueryStore {
  private readonly counts = new CountCache();

  constructor(private readonly knex: Knex) {}

  /** Forgets cached list totals (after the ingest wrote). */
  changed(): void {
    this.counts.clear();
  }

  async listBackups(
    f: TargetFilter & { namespace?: string; cluster?: string },
    sort: BackupSortField,
    order: 'asc' | 'desc',
    p: PageRequest,
  ): Promise<Page<BackupSummary>> {
    const q = this.knex('backups').select('*');
    whereCommon(q, f, 'namespace', 'cluster');
    if (f.namespace) q.where('namespace', f.namespace);
    if (f.cluster) q.where('cluster', f.cluster);
    return page(this.counts, q, p, toBackup, (rows) =>
      rows.orderBy([
        { column: SORT_COLUMNS[sort], order },
        { column: 'snapshot', order },
      ]),
    );
  }

  /** A backup by snapshot id (or unique prefix of 8+) or by name, with its items and restores. */
  async getBackup(repository: string, ref: string): Promise<BackupDetails | undefined> {
    const base = this.knex('backups').where({ repository });
    let row = (await base.clone().where({ name: ref }).first()) as Row | undefined;
    if (!row && /^[0-9a-f]{8,64}$/.test(ref)) {
      const rows = (await base.clone().where('snapshot', 'like', `${ref}%`).limit(2)) as Row[];
      if (rows.length === 1) row = rows[0];
    }
    if (!row) return undefined;
    const key = { repository, snapshot: String(row.snapshot) };
    const [kinds, volumes, images, restores] = await Promise.all([
      this.knex('backup_kinds').where(key).orderBy('kind'),
      this.knex('backup_volumes').where(key).orderBy('pvc'),
      this.knex('backup_images').where(key).orderBy('idx'),
      this.knex('restores')
        .where({ repository, source_snapshot: key.snapshot })
        .orderBy('time', 'desc'),
    ]);
    return {
      ...toBackup(row),
      kinds: (kinds as Row[]).map((k) => ({ kind: String(k.kind), count: num(k.count) })),
      volumeList: (volumes as Row[]).map((v) =>
        compact({
          pvc: String(v.pvc),
          method: optStr(v.method),
          storageClass: optStr(v.storage_class),
          capacity: optStr(v.capacity),
          bytes: optNum(v.bytes),
        }),
      ),
      images: (images as Row[]).map((im) =>
        compact({
          container: String(im.container),
          image: String(im.image),
          digest: optStr(im.digest),
          owner: optStr(im.owner),
          pod: optStr(im.pod),
        }),
      ),
      warningList: json<string[]>(row.warning_list, []),
      restores: (restores as Row[]).map(toRestore),
    };
  }

  /** Count, sizes and the newest backup of a target. */
  async targetStats(target: BackupTarget): Promise<TargetStats> {
    const q = this.knex('backups');
    whereTargets(q, [target], 'namespace', 'cluster');
    const [[agg], last] = (await Promise.all([
      q
        .clone()
        .select(
          this.knex.raw('count(*) as n, sum(size_total) as logical, sum(stored_added) as stored'),
        ),
      q
        .clone()
        .select('*')
        .orderBy([
          { column: 'time', order: 'desc' },
          { column: 'snapshot', order: 'desc' },
        ])
        .first(),
    ])) as [Row[], Row | undefined];
    return compact({
      count: num(agg?.n),
      logicalBytes: num(agg?.logical),
      storedBytes: num(agg?.stored),
      last: last ? toBackup(last) : undefined,
    });
  }

  /** The newest failed backup of a target (from the audit log), if newer than `after`. */
  async lastFailure(target: BackupTarget, after?: string): Promise<AuditEvent | undefined> {
    const q = this.knex('audit_events')
      .where('action', 'backup.create')
      .whereNotIn('outcome', ['success', 'started']);
    whereTargets(q, [target], 'namespace', 'cluster');
    if (after) q.where('time', '>', after);
    const row = (await q.orderBy('time', 'desc').first()) as Row | undefined;
    return row ? toAudit(row) : undefined;
  }

  async listRestores(
    f: TargetFilter & { outcome?: string },
    p: PageRequest,
  ): Promise<Page<RestoreSummary>> {
    const q = this.knex('restores').select('*');
    whereCommon(q, f, 'target_namespace', 'cluster');
    if (f.outcome) q.where('outcome', f.outcome);
    return page(this.counts, q, p, toRestore, (rows) =>
      rows.orderBy([
        { column: 'time', order: 'desc' },
        { column: 'snapshot', order: 'desc' },
      ]),
    );
  }

  async getRestore(repository: string, ref: string): Promise<RestoreDetails | undefined> {
    const base = this.knex('restores').where({ repository });
    let row = (await base.clone().where({ name: ref }).first()) as Row | undefined;
    if (!row && /^[0-9a-f]{8,64}$/.test(ref)) {
      const rows = (await base.clone().where('snapshot', 'like', `${ref}%`).limit(2)) as Row[];
      if (rows.length === 1) row = rows[0];
    }
    if (!row) return undefined;
    const items = (await this.knex('restore_items')
      .where({ repository, snapshot: row.snapshot })
      .orderBy('idx')) as Row[];
    return compact({
      ...toRestore(row),
      items: items.map((it) =>
        compact({
          kind: String(it.kind),
          apiVersion: String(it.api_version),
          namespace: optStr(it.namespace),
          name: String(it.name),
          action: String(it.action),
          outcome: String(it.outcome),
          reason: optStr(it.reason),
        }),
      ),
      warnings: json<string[]>(row.warning_list, []),
      error: optStr(row.error),
    });
  }

  async listAudit(
    f: TargetFilter & { actor?: string; action?: string; outcome?: string },
    p: PageRequest,
  ): Promise<Page<AuditEvent>> {
    const q = this.knex('audit_events').select('*');
    whereCommon(q, f, 'namespace', 'cluster');
    if (f.actor) q.where('actor', f.actor);
    if (f.action) q.where('action', f.action);
    if (f.outcome) q.where('outcome', f.outcome);
    return page(this.counts, q, p, toAudit, (rows) =>
      rows.orderBy([
        { column: 'time', order: 'desc' },
        { column: 'repository' },
        { column: 'seq', order: 'desc' },
      ]),
    );
  }

  async repositoryStates(locations: Map<string, string>): Promise<RepositoryState[]> {
    const cursors = new Map(
      ((await this.knex('ingest_cursors').select('*')) as Row[]).map((r) => [
        String(r.repository),
        r,
      ]),
    );
    const counts = async (table: string) =>
      new Map(
        (
          (await this.knex(table)
            .select('repository')
            .count({ n: '*' })
            .groupBy('repository')) as Row[]
        ).map((r) => [String(r.repository), num(r.n)]),
      );
    const [backups, restores, audit] = await Promise.all([
      counts('backups'),
      counts('restores'),
      counts('audit_events'),
    ]);
    return [...locations].map(([name, location]) => {
      const c = cursors.get(name);
      const chainKnown = c && c.audit_chain_ok !== null && c.audit_chain_ok !== undefined;
      return compact({
        name,
        location,
        lastIngest: optStr(c?.last_run_at),
        lastError: optStr(c?.last_error),
        backups: backups.get(name) ?? 0,
        restores: restores.get(name) ?? 0,
        auditEntries: audit.get(name) ?? 0,
        auditChain: chainKnown
          ? compact({
              repository: name,
              ok: Boolean(c.audit_chain_ok),
              entries: num(c.audit_entries),
              verifiedAt: optStr(c.audit_verified_at),
              problem:
                c.audit_bad_seq !== null && c.audit_bad_seq !== undefined
                  ? { seq: num(c.audit_bad_seq), reason: String(c.audit_bad_reason ?? '') }
                  : undefined,
            })
          : undefined,
      });
    });
  }
}
