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
import { TtlCache, type CacheOptions } from '../services/Cache/TtlCache.js';
import { BACKUP_TOTALS } from './backupTotals.js';
import { CompiledStatements, mark } from './compiledStatements.js';
import { SUMMARY_COLUMNS, backupSummaryJson } from './backupJson.js';
import { BatchedStatements } from './batchedStatements.js';
import { FirstPageReads, keptPageTarget } from './FirstPageReads.js';
import { PagedQueries, type SortColumn } from './PagedQueries.js';
import type { BackupListFilter, PageRequest, TargetFilter } from './types.js';
import { compact, json, num, optNum, optStr } from './values.js';
import { whereTargets } from './whereTargets.js';

type Row = Record<string, unknown>;

const SORT_COLUMNS: Record<BackupSortField, string> = {
  time: 'time',
  name: 'name',
  namespace: 'namespace',
  size: 'size_total',
  duration: 'duration_ms',
};

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

/** The fields of a TargetFilter (a list's filter has the page request and more beside them). */
function pick(f: TargetFilter): TargetFilter {
  return { repository: f.repository, since: f.since, until: f.until, targets: f.targets };
}

/**
 * A backup's summary from its row: the same as its JSON (backupJson.ts), a verification only
 * when its result, time and record all are (the API requires the three).
 */
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
    verification:
      r.verification_result != null && r.verification_time != null && r.verification_record != null
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

/** The database-derived part of an entity's status (see createStatusService). */
export interface TargetStatus {
  count: number;
  logicalBytes: number;
  storedBytes: number;
  last?: BackupSummary;
  lastFailure?: { time: string; actor: string; message?: string; repository: string };
}

/**
 * A failed backup in the audit log. Literal, so that both databases match it with the partial
 * index `audit_backup_failures_idx` (a bound parameter cannot prove the index's condition).
 */
const FAILED_BACKUP = "action = 'backup.create' and outcome not in ('success', 'started')";

const FAILURE_COLUMNS = {
  failure_time: 'time',
  failure_actor: 'actor',
  failure_repository: 'repository',
  failure_details: 'details',
};

function toTargetStatus(r: Row | undefined): TargetStatus {
  const details = json<Record<string, unknown>>(r?.failure_details, {});
  return compact({
    count: num(r?.stat_count),
    logicalBytes: num(r?.stat_logical),
    storedBytes: num(r?.stat_stored),
    last: r?.snapshot ? toBackup(r) : undefined,
    lastFailure: r?.failure_time
      ? compact({
          time: String(r.failure_time),
          actor: String(r.failure_actor),
          message: typeof details.error === 'string' ? details.error : undefined,
          repository: String(r.failure_repository),
        })
      : undefined,
  });
}

/** Targets whose status is kept. */
const MAX_CACHED_TARGETS = 10_000;

/**
 * Reads for the API. List pages, list totals and target statuses are cached for `cache.ttlMs`
 * (none by default): `changed()` forgets them when this process wrote.
 */
export class QueryStore {
  private readonly pages: PagedQueries;
  /** Entities' first backup pages, kept by the ingest (firstPages.ts). */
  private readonly firstPages: FirstPageReads;
  private readonly statuses: TtlCache<TargetStatus>;
  private readonly statements: CompiledStatements;
  /** Status statements of concurrent misses, run together. */
  private readonly batched: BatchedStatements;
  /** SQL of a backup's JSON made by the database, where it can (rowJson.ts). */
  private readonly backupJson: string | undefined;

  constructor(
    private readonly knex: Knex,
    cache: CacheOptions = { ttlMs: 0 },
  ) {
    this.pages = new PagedQueries(knex, cache);
    this.firstPages = new FirstPageReads(knex, cache);
    this.statuses = new TtlCache({ ...cache, maxSize: MAX_CACHED_TARGETS });
    this.statements = new CompiledStatements(knex);
    this.batched = new BatchedStatements(knex);
    this.backupJson = backupSummaryJson(knex);
  }

  /** Forgets cached pages, totals and statuses (after the ingest wrote). */
  changed(): void {
    this.pages.clear();
    this.firstPages.clear();
    this.statuses.clear();
  }

  async listBackups(
    f: BackupListFilter,
    sort: BackupSortField,
    order: 'asc' | 'desc',
    p: PageRequest,
  ): Promise<Page<BackupSummary>> {
    const target = keptPageTarget({ filter: f, sort, order, page: p });
    const kept = target && (await this.firstPages.read(target, p.limit));
    return kept ?? this.computeBackups(f, sort, order, p);
  }

  /** A backup list page (and its total) from the backup rows. */
  private computeBackups(
    f: BackupListFilter,
    sort: BackupSortField,
    order: 'asc' | 'desc',
    p: PageRequest,
  ): Promise<Page<BackupSummary>> {
    const filter = { ...pick(f), namespace: f.namespace, cluster: f.cluster };
    const filtered = (table: string, v: typeof filter) => {
      const q = this.knex(table);
      whereCommon(q, v, 'namespace', 'cluster');
      if (v.namespace) q.where('namespace', v.namespace);
      if (v.cluster) q.where('cluster', v.cluster);
      return q;
    };
    // A filter on targets and repository only: its total is a sum of the per-target totals.
    const byTarget = !f.since && !f.until;
    return this.pages.read(
      {
        name: `backups ${sort} ${order}`,
        filter,
        rows: (v) => filtered('backups', v).select(SUMMARY_COLUMNS),
        orderBy: [
          { column: SORT_COLUMNS[sort], order },
          { column: 'snapshot', order },
        ],
        map: toBackup,
        json: this.backupJson,
        total: byTarget
          ? (v) => filtered(BACKUP_TOTALS, v).sum({ count: 'backup_count' })
          : undefined,
      },
      p,
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

  /**
   * Count, sizes and newest backup of a target, and its newest failed backup (audit log). The
   * statements of the targets missed at the same time are run as one (BatchedStatements).
   */
  targetStatus(target: BackupTarget): Promise<TargetStatus> {
    return this.statuses.get(`${target.namespace}\u0000${target.cluster ?? ''}`, async () => {
      const statement = this.statements.statement('status', mark(target), (t) =>
        this.buildTargetStatusQuery(t),
      );
      return toTargetStatus((await this.batched.rows('status', statement))[0]);
    });
  }

  /**
   * One statement of index lookups: the target's totals (one row per repository and cluster),
   * left-joined with its newest backup and its newest failure.
   */
  private buildTargetStatusQuery(target: BackupTarget): Knex.QueryBuilder {
    const k = this.knex;
    const ofTarget = (table: string) => {
      const q = k(table);
      whereTargets(q, [target], 'namespace', 'cluster');
      return q;
    };
    const totals = ofTarget(BACKUP_TOTALS).select(
      k.raw(
        'sum(backup_count) as stat_count, sum(logical_bytes) as stat_logical, sum(stored_bytes) as stat_stored',
      ),
    );
    const last = ofTarget('backups')
      .select(SUMMARY_COLUMNS)
      .orderBy([
        { column: 'time', order: 'desc' },
        { column: 'snapshot', order: 'desc' },
      ])
      .limit(1);
    const failure = ofTarget('audit_events')
      .select(FAILURE_COLUMNS)
      .whereRaw(FAILED_BACKUP)
      .orderBy('time', 'desc')
      .limit(1);
    const always = (j: Knex.JoinClause) => j.on(k.raw('1 = 1'));
    return k
      .select('t.*', 'l.*', 'f.*')
      .from(totals.as('t'))
      .leftJoin(last.as('l'), always)
      .leftJoin(failure.as('f'), always);
  }

  async listRestores(
    f: TargetFilter & { outcome?: string },
    p: PageRequest,
  ): Promise<Page<RestoreSummary>> {
    const filter = { ...pick(f), outcome: f.outcome };
    const rows = (v: typeof filter) => {
      const q = this.knex('restores').select('*');
      whereCommon(q, v, 'target_namespace', 'cluster');
      if (v.outcome) q.where('outcome', v.outcome);
      return q;
    };
    const orderBy: SortColumn[] = [
      { column: 'time', order: 'desc' },
      { column: 'snapshot', order: 'desc' },
    ];
    return this.pages.read({ name: 'restores', filter, rows, orderBy, map: toRestore }, p);
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
    const filter = { ...pick(f), actor: f.actor, action: f.action, outcome: f.outcome };
    const rows = (v: typeof filter) => {
      const q = this.knex('audit_events').select('*');
      whereCommon(q, v, 'namespace', 'cluster');
      if (v.actor) q.where('actor', v.actor);
      if (v.action) q.where('action', v.action);
      if (v.outcome) q.where('outcome', v.outcome);
      return q;
    };
    const orderBy: SortColumn[] = [
      { column: 'time', order: 'desc' },
      { column: 'repository' },
      { column: 'seq', order: 'desc' },
    ];
    return this.pages.read({ name: 'audit', filter, rows, orderBy, map: toAudit }, p);
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
