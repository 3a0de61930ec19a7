/**
 * The TuiService over a real cluster and repository: the same library calls as the CLI
 * commands (list, describe, create, restore, verify, delete, audit), never the CLI itself.
 */
import {
  appendAudit,
  deleteSnapshots,
  describeLock,
  listLocks,
  readAuditLog,
  verifyAuditLog,
  type AuditInput,
  type Repository,
} from '@kubectl-backup/engine';
import { describeError } from '../output/errors.js';
import {
  backupNamespace,
  canI,
  describeBackup,
  diffBackupWithCluster,
  findBackup,
  isK8sError,
  KIND_RESTORE_RECORD,
  listBackups,
  listRecords,
  listSchedules,
  restoreNamespace,
  tagValue,
  verifyBackup,
  whoAmI,
  type BackupSummary,
  type Connection,
  type ScheduleSummary,
} from '@kubectl-backup/k8s';
import type {
  HeaderInfo,
  NamespaceDetails,
  NamespaceListing,
  NamespaceRow,
  RestoreHistoryRow,
  RestoreRequest,
  TuiService,
} from './service.js';
import { lastFailures, namespaceStatus } from './status.js';

export interface ClusterServiceOptions {
  conn: Connection;
  repo: Repository;
  /** Printable repository location. */
  repository: string;
  rpoMs: number;
  /** Who the audit log names for the TUI's own entries (as the CLI's: user@host). */
  actor: string;
  now?: () => number;
}

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };

const newestFirst = <T extends { time: string }>(a: T, b: T) =>
  Date.parse(b.time) - Date.parse(a.time);

export function createClusterService(options: ClusterServiceOptions): TuiService {
  const { conn, repo } = options;
  const client = conn.client;
  const now = options.now ?? Date.now;

  async function clusterNamespaces(signal?: AbortSignal): Promise<string[] | undefined> {
    try {
      const list = await client.listAll(NAMESPACES, undefined, { signal });
      return list.map((n) => n.metadata.name ?? '').filter(Boolean);
    } catch (err) {
      if (isK8sError(err, 'EFORBIDDEN')) return undefined;
      throw err;
    }
  }

  /** Cron schedules per namespace: all at once, else (forbidden) namespace by namespace. */
  async function schedulesByNamespace(
    names: string[],
    signal?: AbortSignal,
  ): Promise<Map<string, string[] | undefined>> {
    const shown = (s: ScheduleSummary) => (s.suspend ? `${s.schedule} (suspended)` : s.schedule);
    const out = new Map<string, string[] | undefined>();
    try {
      for (const name of names) out.set(name, []);
      for (const s of await listSchedules(client, undefined, { signal }))
        out.set(s.namespace, [...(out.get(s.namespace) ?? []), shown(s)]);
      return out;
    } catch (err) {
      if (!isK8sError(err, 'EFORBIDDEN')) throw err;
    }
    await Promise.all(
      names.map(async (name) => {
        try {
          out.set(name, (await listSchedules(client, name, { signal })).map(shown));
        } catch (err) {
          if (!isK8sError(err, 'EFORBIDDEN')) throw err;
          out.set(name, undefined);
        }
      }),
    );
    return out;
  }

  const mayListPods = (namespace: string, signal?: AbortSignal) =>
    canI(client, { verb: 'list', group: '', resource: 'pods', namespace }, signal);

  return {
    async header(signal) {
      const [identity, locks, audit] = await Promise.all([
        whoAmI(client, signal),
        listLocks(repo),
        verifyAuditLog(repo),
      ]);
      const repoLocks = locks.filter((l) => l.namespace === '');
      const live = repoLocks.filter((l) => !l.stale);
      const first = live[0] ?? repoLocks[0];
      const health: HeaderInfo['health'] = {
        lock: live.length ? 'locked' : repoLocks.length ? 'stale' : 'unlocked',
        audit,
      };
      if (first) health.lockDetail = first.readable ? describeLock(first, now()) : first.error;
      return {
        context: conn.info.context,
        cluster: conn.info.cluster,
        server: conn.info.server,
        user: identity.username,
        userSource: identity.source,
        repository: options.repository,
        health,
      };
    },

    async namespaces(signal) {
      const [backups, audit, inCluster] = await Promise.all([
        listBackups(repo),
        readAuditLog(repo, { skipInvalid: true }),
        clusterNamespaces(signal),
      ]);
      const byNamespace = new Map<string, BackupSummary[]>();
      for (const b of backups)
        byNamespace.set(b.namespace, [...(byNamespace.get(b.namespace) ?? []), b]);
      const names = new Set([...(inCluster ?? [conn.namespace]), ...byNamespace.keys()]);
      const failures = lastFailures(audit);
      const schedules = await schedulesByNamespace([...names], signal);
      const rows = await Promise.all(
        [...names].sort().map(async (name): Promise<NamespaceRow> => {
          const list = (byNamespace.get(name) ?? []).sort(newestFirst);
          const last = list[0];
          const failedAt = failures.get(name);
          const status = namespaceStatus({
            lastBackup: last?.time,
            lastFailure: failedAt,
            rpoMs: options.rpoMs,
            now: now(),
          });
          return {
            name,
            access: (await mayListPods(name, signal)) ? 'allowed' : 'forbidden',
            inCluster: inCluster ? inCluster.includes(name) : 'unknown',
            backups: list.length,
            ...(last
              ? { last: { name: last.name, time: last.time, sizeTotal: last.sizeTotal } }
              : {}),
            ...(status === 'failed' && failedAt ? { failedAt } : {}),
            status,
            ...(schedules.get(name) ? { schedules: schedules.get(name) } : {}),
          };
        }),
      );
      const listing: NamespaceListing = { rows };
      if (!inCluster)
        listing.notice = `you may not list namespaces: showing ${conn.namespace} (the context's) and those with backups`;
      return listing;
    },

    async namespace(name) {
      const [backups, restores, audit, auditChain] = await Promise.all([
        listBackups(repo, { namespace: name }),
        listRecords(repo, KIND_RESTORE_RECORD),
        readAuditLog(repo, { skipInvalid: true }),
        verifyAuditLog(repo),
      ]);
      const own = new Set(backups.map((b) => b.name));
      const history: RestoreHistoryRow[] = restores
        .map((r) => ({
          name: tagValue(r.tags, 'name') ?? r.id.slice(0, 8),
          time: r.time,
          source: tagValue(r.tags, 'source') ?? '',
          targetNamespace: tagValue(r.tags, 'namespace') ?? '',
          outcome: tagValue(r.tags, 'outcome') ?? 'unknown',
        }))
        .filter((r) => r.targetNamespace === name || own.has(r.source));
      return {
        namespace: name,
        backups: backups.sort(newestFirst),
        restores: history.sort(newestFirst),
        audit: audit
          .filter((e) => e.namespace === name || (e.target !== undefined && own.has(e.target)))
          .sort((a, b) => b.seq - a.seq),
        auditChain,
      } satisfies NamespaceDetails;
    },

    describe: (backup) => describeBackup(repo, backup),

    backup: (namespace, op) =>
      backupNamespace(repo, client, {
        namespace,
        signal: op.signal,
        onProgress: op.onProgress,
      }),

    async planRestore(request, signal) {
      const { plan } = await restoreNamespace(repo, client, {
        ...restoreOptions(request),
        dryRun: true,
        signal,
      });
      try {
        const diff = await diffBackupWithCluster(repo, client, plan.backup.snapshot, {
          namespace: plan.targetNamespace,
          signal,
        });
        return { plan, notInBackup: diff.objects.filter((o) => o.change === 'added') };
      } catch (err) {
        return { plan, notInBackup: [], notInBackupError: (err as Error).message };
      }
    },

    restore: (request, op) =>
      restoreNamespace(repo, client, {
        ...restoreOptions(request),
        signal: op.signal,
        onProgress: op.onProgress,
      }),

    verify: (backup, mode, op) =>
      verifyBackup(repo, client, {
        backup,
        readData: mode !== 'quick',
        restoreTest: mode === 'restore-test',
        signal: op.signal,
        onProgress: op.onProgress,
      }),

    async deleteBackup(name) {
      const handle = await findBackup(repo, name);
      const entry = {
        action: 'backup.delete',
        target: handle.name,
        cluster: conn.info.cluster || conn.info.server,
        context: conn.info.context,
        namespace: handle.namespace,
      };
      const audit = async (e: Pick<AuditInput, 'outcome' | 'details'>): Promise<string[]> => {
        try {
          await appendAudit(repo, { actor: options.actor, ...entry, ...e }, { lockWaitMs: 30_000 });
          return [];
        } catch (err) {
          return [`could not append to the audit log: ${describeError(err)}`];
        }
      };
      try {
        await deleteSnapshots(repo, [handle.snapshot.id]);
      } catch (err) {
        await audit({ outcome: 'failure', details: { error: describeError(err) } });
        throw err;
      }
      return {
        warnings: await audit({ outcome: 'success', details: { snapshot: handle.snapshot.id } }),
      };
    },
  };
}

function restoreOptions(r: RestoreRequest) {
  return {
    backup: r.backup,
    targetNamespace: r.targetNamespace,
    ...(r.includeResources?.length ? { includeResources: r.includeResources } : {}),
    ...(r.excludeResources?.length ? { excludeResources: r.excludeResources } : {}),
    existing: r.existing,
    volumes: r.volumes,
  };
}
