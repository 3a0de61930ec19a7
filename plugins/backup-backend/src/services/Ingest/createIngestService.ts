/**
 * The ingest: reads each repository incrementally through the k8s library's readers and the
 * engine's audit log reader, and mirrors it into the database.
 *
 * - backups: snapshots not yet in the database are read (manifest) and added; rows of snapshots
 *   no longer in the repository (forgotten) are removed; verification results are refreshed.
 * - restore records: the same, by record snapshot.
 * - audit log: entries after the cursor's seq are added; the whole chain is verified against the
 *   head seen last time (so truncation and rewritten history are flagged too).
 *
 * The index (needed to read manifests and records) is loaded only when there is something new.
 * Runs are serialised per repository in this process; across replicas the scheduler's global
 * task lock keeps one ingest at a time.
 */
import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  auditEntryHash,
  readAuditLog,
  readItem,
  verifyAuditLog,
  type Repository,
  type Snapshot,
} from '@kubectl-backup/engine';
import {
  KIND_RESTORE_RECORD,
  RESTORE_DOC,
  latestVerifications,
  listBackupSnapshots,
  listRecords,
  readManifest,
  tagValue,
  type BackupManifest,
  type RestoreRecord,
} from '@kubectl-backup/k8s';
import type { IngestStore } from '../../database/IngestStore.js';
import type { IngestCursor } from '../../database/types.js';
import type { RepositoryPool } from '../Repositories/RepositoryPool.js';
import { toAuditEvent, toBackupRecord, toRestoreRecord, toVerification } from './mapping.js';
import type { IngestService, RepositoryIngestResult } from './types.js';

export interface IngestServiceOptions {
  repositories: RepositoryPool;
  store: IngestStore;
  logger: LoggerService;
  /** Called after each repository's run (metrics). */
  onResult?: (result: RepositoryIngestResult) => void;
}

const backupName = (s: Snapshot) => tagValue(s.tags, 'name') ?? s.id.slice(0, 8);

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Error('ingest aborted');
}

export function createIngestService(options: IngestServiceOptions): IngestService {
  const { repositories, store, logger } = options;
  const running = new Map<string, Promise<RepositoryIngestResult>>();

  async function ingestBackups(
    name: string,
    repo: Repository,
    loadIndex: () => Promise<void>,
    result: RepositoryIngestResult,
    signal?: AbortSignal,
  ) {
    const snaps = await listBackupSnapshots(repo);
    const known = await store.backupSnapshots(name);
    const present = new Set(snaps.map((s) => s.id));
    const gone = [...known.keys()].filter((id) => !present.has(id));
    if (gone.length > 0) await store.removeBackups(name, gone);
    result.backupsRemoved = gone.length;

    const verifications = await latestVerifications(repo);
    const fresh = snaps.filter((s) => !known.has(s.id));
    if (fresh.length > 0) await loadIndex();
    for (const s of fresh) {
      checkAborted(signal);
      let manifest: BackupManifest | undefined;
      let error: string | undefined;
      try {
        manifest = await readManifest(repo, s);
      } catch (err) {
        error = `manifest unreadable: ${(err as Error).message}`;
      }
      const record = toBackupRecord(name, s, manifest, undefined, error);
      record.verification = toVerification(verifications.get(record.name));
      if (!record.verification) delete record.verification;
      await store.addBackup(record);
      result.backupsAdded++;
    }
    // Verifications made since a backup was ingested.
    for (const s of snaps) {
      if (!known.has(s.id)) continue;
      const now = toVerification(verifications.get(backupName(s)));
      const before = known.get(s.id);
      if (now?.record !== before?.record || now?.result !== before?.result) {
        await store.setVerification(name, s.id, now);
        result.verificationsUpdated++;
      }
    }
  }

  async function ingestRestores(
    name: string,
    repo: Repository,
    loadIndex: () => Promise<void>,
    result: RepositoryIngestResult,
    signal?: AbortSignal,
  ) {
    const records = await listRecords(repo, KIND_RESTORE_RECORD);
    const known = await store.restoreSnapshots(name);
    const present = new Set(records.map((s) => s.id));
    const gone = [...known].filter((id) => !present.has(id));
    if (gone.length > 0) await store.removeRestores(name, gone);
    result.restoresRemoved = gone.length;
    const fresh = records.filter((s) => !known.has(s.id));
    if (fresh.length > 0) await loadIndex();
    for (const s of fresh) {
      checkAborted(signal);
      const record = await readRestoreRecord(repo, s);
      if (!record) {
        logger.warn(
          `repository ${name}: restore record ${s.id.slice(0, 8)} is unreadable; skipped`,
        );
        continue;
      }
      await store.addRestore(toRestoreRecord(name, s, record));
      result.restoresAdded++;
    }
  }

  async function readRestoreRecord(
    repo: Repository,
    s: Snapshot,
  ): Promise<RestoreRecord | undefined> {
    try {
      return JSON.parse((await readItem(repo, s, RESTORE_DOC)).toString('utf8')) as RestoreRecord;
    } catch {
      return undefined;
    }
  }

  async function ingestAudit(
    name: string,
    repo: Repository,
    cursor: IngestCursor,
    result: RepositoryIngestResult,
  ) {
    const expectedHead =
      cursor.auditSeq > 0 && cursor.auditHash
        ? { seq: cursor.auditSeq, hash: cursor.auditHash }
        : undefined;
    const verification = await verifyAuditLog(repo, expectedHead ? { expectedHead } : {});
    const entries = await readAuditLog(repo, { since: cursor.auditSeq + 1, skipInvalid: true });
    await store.addAuditEvents(entries.map((e) => toAuditEvent(name, e)));
    result.auditAdded = entries.length;
    // The head moves over good entries only: after a break, the next run checks against the last good one.
    const limit = verification.ok ? Infinity : (verification.firstBad?.seq ?? 0);
    let expectSeq = cursor.auditSeq + 1;
    for (const e of entries) {
      if (e.seq >= limit || e.seq !== expectSeq) break;
      cursor.auditSeq = e.seq;
      cursor.auditHash = auditEntryHash(e);
      expectSeq++;
    }
    cursor.auditChain = {
      ok: verification.ok,
      entries: verification.entries,
      verifiedAt: new Date().toISOString(),
    };
    if (verification.firstBad) {
      cursor.auditChain.badSeq = verification.firstBad.seq;
      cursor.auditChain.badReason = verification.firstBad.reason;
      logger.warn(
        `repository ${name}: audit chain broken at seq ${verification.firstBad.seq}: ${verification.firstBad.reason}`,
      );
    }
    result.auditChainOk = verification.ok;
  }

  async function run(name: string, signal?: AbortSignal): Promise<RepositoryIngestResult> {
    const result: RepositoryIngestResult = {
      repository: name,
      backupsAdded: 0,
      backupsRemoved: 0,
      restoresAdded: 0,
      restoresRemoved: 0,
      auditAdded: 0,
      verificationsUpdated: 0,
      auditChainOk: true,
    };
    const location = repositories.location(name);
    const cursor: IngestCursor = (await store.getCursor(name)) ?? {
      repository: name,
      location,
      auditSeq: 0,
    };
    cursor.location = location;
    cursor.lastRunAt = new Date().toISOString();
    try {
      await repositories.withRepository(name, { index: false }, async (repo) => {
        let indexLoaded = false;
        const loadIndex = async () => {
          if (!indexLoaded) await repo.reloadIndex();
          indexLoaded = true;
        };
        await ingestBackups(name, repo, loadIndex, result, signal);
        await ingestRestores(name, repo, loadIndex, result, signal);
        checkAborted(signal);
        await ingestAudit(name, repo, cursor, result);
      });
      cursor.lastSuccessAt = cursor.lastRunAt;
      delete cursor.lastError;
    } catch (err) {
      result.error = (err as Error).message;
      cursor.lastError = result.error;
      logger.error(`repository ${name}: ingest failed: ${result.error}`);
    }
    await store.saveCursor(cursor);
    options.onResult?.(result);
    return result;
  }

  function ingestRepository(name: string, signal?: AbortSignal): Promise<RepositoryIngestResult> {
    repositories.get(name); // NotFoundError for an unknown name
    const previous = running.get(name) ?? Promise.resolve(undefined);
    const next = previous.catch(() => undefined).then(() => run(name, signal));
    running.set(name, next);
    const cleanup = () => {
      if (running.get(name) === next) running.delete(name);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  return {
    ingestRepository,
    async ingestAll(signal) {
      const results: RepositoryIngestResult[] = [];
      for (const name of repositories.names()) {
        checkAborted(signal);
        results.push(await ingestRepository(name, signal));
      }
      return results;
    },
  };
}
