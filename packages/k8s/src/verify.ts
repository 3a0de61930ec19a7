/**
 * verifyBackup: integrity of everything a backup references and, with `restoreTest`, a full
 * restore into a scratch namespace, object comparison after sanitising, volume checksums, then
 * deletion of the scratch namespace. The result is written as a verify record and audited.
 */
import { randomBytes } from 'node:crypto';
import { appendAudit, listItems, readItem, restoreItemStream, type Repository, type Snapshot } from '@kubectl-backup/engine';
import type { KubeClient } from './client.js';
import { toClient, type ClusterTarget } from './connection.js';
import { clusterInfo, whoAmI } from './context.js';
import { isPristineDefaultServiceAccount } from './discovery.js';
import { K8sError } from './errors.js';
import { KIND_VERIFY_RECORD, MANIFEST_DOC, RESOURCES_PREFIX, VERIFY_DOC } from './layout.js';
import { OperationLog, type ProgressCallback } from './log.js';
import { findBackup, readBackupObjects, readManifest, writeRecord } from './records.js';
import { restoreNamespace } from './restore/apply.js';
import { subsetDiff } from './restore/diff-fields.js';
import { mapNamespace, sanitizeObject } from './restore/sanitize.js';
import { compareManifests, readVolumeManifest, tarManifest } from './volumes/index.js';

export interface VerifyBackupOptions {
  backup: string;
  /** Read every item to its end (default: documents only). */
  readData?: boolean;
  /** Restore into a scratch namespace and compare (needs a cluster). */
  restoreTest?: boolean;
  /** Scratch namespace (default `verify-<backup>-<random>`, at most 63 characters). */
  scratchNamespace?: string;
  /** Keep the scratch namespace afterwards (for inspection). */
  keepScratch?: boolean;
  waitTimeoutMs?: number;
  moverImage?: string;
  actor?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  /** What was wrong (at most 50 lines). */
  problems?: string[];
  detail?: string;
}

export interface VerifyResult {
  backup: string;
  snapshot: string;
  result: 'passed' | 'failed';
  checks: VerifyCheck[];
  scratchNamespace?: string;
  recordSnapshot?: Snapshot;
  warnings: string[];
}

function scratchName(backup: string): string {
  const suffix = randomBytes(3).toString('hex');
  const base = `verify-${backup}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63 - suffix.length - 1).replace(/-+$/, '');
  return `${base}-${suffix}`;
}

const limit = (lines: string[]) => (lines.length > 50 ? [...lines.slice(0, 50), `… and ${lines.length - 50} more`] : lines);

export async function verifyBackup(repo: Repository, target: ClusterTarget | undefined, options: VerifyBackupOptions): Promise<VerifyResult> {
  const log = new OperationLog('verify', options.onProgress);
  const started = new Date();
  const handle = await findBackup(repo, options.backup);
  const checks: VerifyCheck[] = [];
  const client: KubeClient | undefined = target ? toClient(target) : undefined;
  const info = client ? clusterInfo(client.kc) : undefined;
  const actor = options.actor ?? (client ? (await whoAmI(client, options.signal)).username : repo.user);
  // Refused before the integrity pass (which may read every byte) rather than after it.
  let scratch: string | undefined;
  if (options.restoreTest) {
    if (!client) throw new K8sError('EUSAGE', 'a restore test needs a cluster');
    scratch = options.scratchNamespace ?? scratchName(handle.name);
    // The scratch namespace is deleted afterwards: never one that holds anything already.
    if (await client.getOptional(NAMESPACES, undefined, scratch, options.signal))
      throw new K8sError('EEXISTS', `namespace "${scratch}" exists already: a restore test needs a scratch namespace of its own, which it deletes afterwards`);
  }

  // 1. integrity: the manifest, every object, optionally every byte
  log.progress('capture', `checking the items of ${handle.name}`);
  const integrity: string[] = [];
  const items = await listItems(repo, handle.snapshot).catch((err: unknown) => {
    integrity.push(`the snapshot's item list: ${(err as Error).message}`);
    return [];
  });
  let manifestOk = true;
  const manifest = await readManifest(repo, handle.snapshot).catch((err: unknown) => {
    manifestOk = false;
    integrity.push(`${MANIFEST_DOC}: ${(err as Error).message}`);
    return undefined;
  });
  for (const item of items) {
    if (options.signal?.aborted) throw new K8sError('EABORTED', 'verification cancelled');
    try {
      if (item.name.startsWith(RESOURCES_PREFIX)) {
        const obj = JSON.parse((await readItem(repo, handle.snapshot, item.name)).toString('utf8')) as { kind?: string; metadata?: { name?: string } };
        if (!obj.kind || !obj.metadata?.name) integrity.push(`${item.name}: not a Kubernetes object`);
      } else if (options.readData && item.kind === 'stream') {
        let bytes = 0;
        for await (const chunk of await restoreItemStream(repo, handle.snapshot, item.name)) bytes += (chunk as Buffer).length;
        if (bytes !== item.size) integrity.push(`${item.name}: ${bytes} bytes read, ${item.size} recorded`);
      }
    } catch (err) {
      integrity.push(`${item.name}: ${(err as Error).message}`);
    }
  }
  for (const v of manifest?.volumes ?? []) if (!items.some((i) => i.name === v.item)) integrity.push(`${v.item}: listed in the manifest, missing from the snapshot`);
  checks.push({ name: 'integrity', ok: manifestOk && integrity.length === 0, ...(integrity.length ? { problems: limit(integrity) } : {}), detail: `${items.length} items${options.readData ? ', all data read' : ''}` });

  // 2. restore test
  if (options.restoreTest && client && scratch) {
    log.progress('apply', `restoring ${handle.name} into scratch namespace ${scratch}`);
    try {
      const restored = await restoreNamespace(repo, client, {
        backup: handle.snapshot.id,
        targetNamespace: scratch,
        existing: 'skip',
        volumes: true,
        wait: true,
        waitTimeoutMs: options.waitTimeoutMs,
        moverImage: options.moverImage,
        actor,
        signal: options.signal,
        name: `${handle.name}-verify-restore-${started.getTime()}`,
      });
      const failed = restored.record?.items.filter((i) => i.outcome === 'failed').map((i) => `${i.kind} ${i.name}: ${i.reason}`) ?? [];
      const notReady = restored.record?.readiness.filter((r) => !r.ready).map((r) => `${r.kind} ${r.name}: ${r.message}`) ?? [];
      checks.push({ name: 'restore', ok: !failed.length && restored.record?.outcome === 'success', ...(failed.length ? { problems: limit(failed) } : {}) });
      checks.push({ name: 'readiness', ok: !notReady.length, ...(notReady.length ? { problems: limit(notReady) } : {}) });

      log.progress('wait', 'comparing objects');
      const mismatches: string[] = [];
      for (const s of await readBackupObjects(repo, handle.snapshot)) {
        if (s.ref.namespace === undefined || isPristineDefaultServiceAccount(s.object)) continue;
        const loc = { group: s.ref.group, version: s.ref.version, resource: s.ref.resource, namespaced: true };
        const live = await client.getOptional(loc, scratch, s.ref.name, options.signal);
        if (!live) {
          mismatches.push(`${s.ref.kind} ${s.ref.name}: not restored`);
          continue;
        }
        const desired = mapNamespace(sanitizeObject(s.object), handle.namespace, scratch);
        for (const d of subsetDiff(desired, sanitizeObject(live))) mismatches.push(`${s.ref.kind} ${s.ref.name}: ${d.path} is ${JSON.stringify(d.from)}, backup has ${JSON.stringify(d.to)}`);
      }
      checks.push({ name: 'objects', ok: !mismatches.length, ...(mismatches.length ? { problems: limit(mismatches) } : {}) });

      const volumeProblems: string[] = [];
      for (const v of manifest?.volumes ?? []) {
        if (!items.some((i) => i.name === v.item)) continue;
        log.progress('volumes', `comparing the data of PVC ${v.pvc}`);
        try {
          const expected = await tarManifest(await restoreItemStream(repo, handle.snapshot, v.item));
          const actual = await readVolumeManifest(client.kc, scratch, v.pvc, { moverImage: options.moverImage, signal: options.signal });
          for (const d of compareManifests(expected, actual)) volumeProblems.push(`PVC ${v.pvc}: ${d}`);
        } catch (err) {
          volumeProblems.push(`PVC ${v.pvc}: ${(err as Error).message}`);
        }
      }
      if (manifest?.volumes.length) checks.push({ name: 'volumes', ok: !volumeProblems.length, ...(volumeProblems.length ? { problems: limit(volumeProblems) } : {}), detail: `${manifest.volumes.length} volume(s)` });
    } catch (err) {
      if (err instanceof K8sError && err.code === 'EABORTED') throw err;
      checks.push({ name: 'restore', ok: false, problems: [(err as Error).message] });
    } finally {
      if (!options.keepScratch) {
        log.progress('done', `deleting scratch namespace ${scratch}`);
        await deleteNamespace(client, scratch).catch((err: unknown) => log.warn('verify.cleanup', `scratch namespace ${scratch} could not be deleted: ${(err as Error).message}`));
      }
    }
  }

  const result: VerifyResult['result'] = checks.every((c) => c.ok) ? 'passed' : 'failed';
  const finished = new Date();
  const document = {
    recordVersion: 1,
    kind: 'verify-record',
    backup: handle.name,
    snapshot: handle.snapshot.id,
    namespace: handle.namespace,
    result,
    checks,
    ...(scratch ? { scratchNamespace: scratch } : {}),
    actor,
    ...(info ? { cluster: { name: info.cluster, context: info.context, server: info.server } } : {}),
    started: started.toISOString(),
    finished: finished.toISOString(),
    durationMs: finished.getTime() - started.getTime(),
    options: { readData: !!options.readData, restoreTest: !!options.restoreTest },
    warnings: log.warnings,
  };
  for (const c of checks) log.add(c.ok ? 'info' : 'error', `verify.${c.name}`, `${c.name}: ${c.ok ? 'ok' : (c.problems ?? []).slice(0, 3).join('; ')}`);
  const recordSnapshot = await writeRecord(repo, {
    kind: KIND_VERIFY_RECORD,
    name: `${handle.name}-verify-${started.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '').toLowerCase()}`,
    namespace: handle.namespace,
    source: handle.name,
    sourceSnapshot: handle.snapshot.id,
    ...(info ? { cluster: info.cluster || info.server } : {}),
    documentName: VERIFY_DOC,
    document,
    log: log.toJsonl(),
    extraTags: [`result=${result}`],
    time: started,
  });
  await appendAudit(repo, {
    actor,
    action: 'backup.verify',
    target: handle.name,
    outcome: result === 'passed' ? 'success' : 'failure',
    details: { result, checks: checks.map((c) => ({ name: c.name, ok: c.ok })), record: recordSnapshot.id },
    ...(info ? { cluster: info.cluster || info.server, context: info.context } : {}),
    namespace: handle.namespace,
  }).catch((err: unknown) => log.warn('audit.failed', `the audit entry could not be written: ${(err as Error).message}`));
  return { backup: handle.name, snapshot: handle.snapshot.id, result, checks, ...(scratch ? { scratchNamespace: scratch } : {}), recordSnapshot, warnings: [...log.warnings] };
}

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };

async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  const t = NAMESPACES;
  try {
    await client.delete(t, undefined, name);
  } catch (err) {
    if (err instanceof K8sError && err.code === 'ENOTFOUND') return;
    throw err;
  }
  const deadline = Date.now() + 120_000;
  while (await client.getOptional(t, undefined, name)) {
    if (Date.now() > deadline) throw new K8sError('ETIMEOUT', `namespace ${name} still terminating after 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
