/**
 * backupNamespace: capture a namespace's resources (and, with the volume module, its PVC data)
 * into one engine snapshot, with a manifest and the operation's log; audit the result.
 */
import { appendAudit, backup, listSnapshots, deleteSnapshots, type NamedStream, type ProgressEvent, type Repository, type Snapshot } from '@kubectl-backup/engine';
import { captureNamespace, type CaptureResult } from './capture.js';
import { toClient, type ClusterTarget } from './connection.js';
import { assertNamespace, clusterInfo, whoAmI, type Identity } from './context.js';
import { K8sError } from './errors.js';
import { loadHooksModule, loadVolumesModule, type HookRecord, type VolumeBackups, type VolumeMode, type VolumeRecord } from './integration.js';
import {
  defaultBackupName,
  isValidRecordName,
  KIND_NAMESPACE_BACKUP,
  LOG_DOC,
  MANIFEST_DOC,
  tag,
} from './layout.js';
import { OperationLog, type ProgressCallback } from './log.js';
import { MANIFEST_VERSION, type BackupManifest, type ManifestObject } from './manifest.js';

export interface BackupNamespaceOptions {
  namespace: string;
  /** Unique in the repository; default `<namespace>-<UTC timestamp>`. */
  name?: string;
  includeResources?: string[];
  excludeResources?: string[];
  labelSelector?: string;
  /** PVC data: `auto` (CSI snapshot where possible, else file copy), `snapshot`, `fs`, `none`. Default `auto`. */
  volumes?: VolumeMode;
  /** Extra snapshot tags (`k=v`). */
  tags?: string[];
  /** Turn warnings (a type that could not be listed, a PVC not read…) into a failure. */
  failOnWarning?: boolean;
  /** Who is recorded; default: the cluster's answer to SelfSubjectReview, else the kubeconfig user. */
  actor?: string;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  moverImage?: string;
  /** PVCs copied at once (volume module). */
  parallelVolumes?: number;
  /** Run pre/post hooks from pod annotations (default true, when the hook module is present). */
  hooks?: boolean;
  /** Time recorded as the backup's start (default now). */
  time?: Date;
}

export interface BackupNamespaceResult {
  snapshot: Snapshot;
  manifest: BackupManifest;
  /** Every object stored (namespaced and cluster-scoped). */
  objects: ManifestObject[];
  warnings: string[];
}

const JSON_TYPE = 'application/json';

export async function backupNamespace(repo: Repository, target: ClusterTarget, options: BackupNamespaceOptions): Promise<BackupNamespaceResult> {
  const client = toClient(target);
  const info = clusterInfo(client.kc);
  const log = new OperationLog('backup', options.onProgress);
  const started = options.time ?? new Date();
  const namespace = options.namespace;
  const name = options.name ?? defaultBackupName(namespace, started);
  const volumesMode: VolumeMode = options.volumes ?? 'auto';
  let identity: Identity = { username: options.actor ?? info.user, groups: [], source: 'kubeconfig' };
  const audit = async (outcome: 'success' | 'failure' | 'canceled', details: Record<string, unknown>) => {
    try {
      await appendAudit(repo, { actor: identity.username, action: 'backup.create', target: name, outcome, details, cluster: info.cluster || info.server, context: info.context, namespace });
    } catch (err) {
      log.warn('audit.failed', `the audit entry could not be written: ${(err as Error).message}`);
    }
  };

  if (!isValidRecordName(name)) throw new K8sError('EUSAGE', `invalid backup name "${name}": use lower-case letters, digits, '-' and '.'`);
  let volumes: VolumeBackups | undefined;
  const hooks: HookRecord[] = [];
  let runPost: (() => Promise<void>) | undefined;
  try {
    log.progress('connect', `connecting to ${info.server} (context ${info.context})`);
    if (!options.actor) identity = await whoAmI(client, options.signal);
    log.info('start', `backup ${name} of namespace ${namespace} by ${identity.username} (${identity.source})`, { name, namespace, context: info.context, server: info.server });
    const existing = await listSnapshots(repo, { tags: [tag('kind', KIND_NAMESPACE_BACKUP), tag('name', name)] });
    if (existing.length) throw new K8sError('EEXISTS', `a backup named "${name}" already exists in the repository (snapshot ${existing[0]!.id.slice(0, 8)}); choose another name`);
    await assertNamespace(client, namespace, options.signal);

    const capture = await log.timed('capture', () => captureNamespace(client, log, { namespace, includeResources: options.includeResources, excludeResources: options.excludeResources, labelSelector: options.labelSelector, signal: options.signal }));
    if (options.failOnWarning && log.warnings.length) throw warningsError(log.warnings);

    const hooksModule = options.hooks === false ? undefined : await loadHooksModule();
    if (hooksModule && capture.pods.length) {
      log.progress('hooks', 'running pre-backup hooks');
      runPost = async () => {
        runPost = undefined;
        const post = await hooksModule.runHooks(client.kc, namespace, capture.pods, 'post', { signal: options.signal, onWarning: (m) => log.warn('hook.warning', m) });
        hooks.push(...post);
        for (const r of post) log.info('hook.post', `post-hook in ${String(r.pod)}: ${r.ok ? 'ok' : `failed (${String(r.error ?? r.exitCode)})`}`, { pod: r.pod, ok: r.ok });
      };
      const pre = await hooksModule.runHooks(client.kc, namespace, capture.pods, 'pre', { signal: options.signal, onWarning: (m) => log.warn('hook.warning', m) });
      hooks.push(...pre);
      for (const r of pre) log.info('hook.pre', `pre-hook in ${String(r.pod)}: ${r.ok ? 'ok' : `failed (${String(r.error ?? r.exitCode)})`}`, { pod: r.pod, ok: r.ok });
      const fatalHook = pre.find((r) => r.fatal);
      if (fatalHook) throw new K8sError('EHOOK', `pre-backup hook in pod ${String(fatalHook.pod)} failed (hook-on-error: Fail): ${String(fatalHook.error ?? `exit code ${String(fatalHook.exitCode)}`)}`);
    }

    const pvcs = capture.objects.filter((o) => o.ref.kind === 'PersistentVolumeClaim' && o.ref.group === '').map((o) => o.object);
    if (volumesMode !== 'none' && pvcs.length) {
      const mod = await loadVolumesModule();
      if (!mod) {
        log.warn('volumes.unavailable', `volume data of ${pvcs.length} PVC(s) not captured: this build has no volume support (use volumes: 'none' to leave data out knowingly)`);
      } else {
        log.progress('volumes', `preparing ${pvcs.length} volume(s)`);
        volumes = await mod.prepareVolumeBackups(client.kc, namespace, pvcs, {
          mode: volumesMode,
          moverImage: options.moverImage,
          parallel: options.parallelVolumes,
          signal: options.signal,
          onWarning: (m) => log.warn('volume.warning', m),
        });
        if (volumes.consistentAfterPrepare && runPost) await runPost();
      }
    } else if (pvcs.length) {
      log.info('volumes.none', `volume data of ${pvcs.length} PVC(s) left out (volumes: none)`);
    }
    if (options.failOnWarning && log.warnings.length) throw warningsError(log.warnings);

    // post hooks run once the volume data has been read, before the manifest is written
    const beforeManifest = async () => {
      if (runPost) await runPost();
    };
    const result = await save(repo, { name, namespace, identity, info, started, capture, hooks, volumes, log, options, volumesMode, beforeManifest });
    if (options.failOnWarning && log.warnings.length) {
      await deleteSnapshots(repo, [result.snapshot.id]);
      throw warningsError(log.warnings);
    }
    await audit('success', {
      snapshot: result.snapshot.id,
      resources: result.manifest.resources.total,
      volumes: result.manifest.volumes.length,
      warnings: log.warnings.length,
      bytesAdded: result.snapshot.stats.bytesAdded,
    });
    log.progress('done', `backup ${name} saved as snapshot ${result.snapshot.id.slice(0, 8)}`);
    const objects: ManifestObject[] = capture.objects.map((o) => ({
      path: o.path,
      apiVersion: o.object.apiVersion,
      kind: o.ref.kind,
      ...(o.ref.namespace ? { namespace: o.ref.namespace } : {}),
      name: o.ref.name,
      ...(o.dependencyOf ? { dependencyOf: o.dependencyOf } : {}),
    }));
    return { ...result, objects, warnings: [...log.warnings] };
  } catch (err) {
    const e = err instanceof K8sError || (err as { code?: unknown }).code ? (err as Error) : new K8sError('EAPI', (err as Error).message, { cause: err });
    await audit(options.signal?.aborted ? 'canceled' : 'failure', { error: e.message, code: (e as { code?: string }).code });
    throw err;
  } finally {
    // post hooks run even when the backup failed after the pre hooks (e.g. to resume a database)
    if (runPost) await runPost().catch((err: unknown) => log.warn('hook.post', `post hooks failed: ${(err as Error).message}`));
    if (volumes) await volumes.cleanup().catch((err: unknown) => log.warn('volumes.cleanup', `cleaning up volume copies failed: ${(err as Error).message}`));
  }
}

function warningsError(warnings: string[]): K8sError {
  return new K8sError('EWARNINGS', `backup refused because of ${warnings.length} warning(s) (fail-on-warning): ${warnings.join('; ')}`);
}

interface SaveContext {
  name: string;
  namespace: string;
  identity: Identity;
  info: ReturnType<typeof clusterInfo>;
  started: Date;
  capture: CaptureResult;
  hooks: HookRecord[];
  volumes?: VolumeBackups;
  log: OperationLog;
  options: BackupNamespaceOptions;
  volumesMode: VolumeMode;
  beforeManifest(): Promise<void>;
}

function buildManifest(c: SaveContext, volumeRecords: VolumeRecord[]): BackupManifest {
  const byKind: Record<string, number> = {};
  for (const o of c.capture.objects) byKind[o.ref.kind] = (byKind[o.ref.kind] ?? 0) + 1;
  const byReason: Record<string, number> = {};
  for (const s of c.capture.skipped) {
    const key = s.reason.startsWith('owned by') ? `${s.kind}: owned by a controller` : `${s.kind}: ${s.reason}`;
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  const finished = new Date();
  return {
    manifestVersion: MANIFEST_VERSION,
    kind: 'namespace-backup',
    name: c.name,
    namespace: c.namespace,
    cluster: { name: c.info.cluster, context: c.info.context, server: c.info.server },
    actor: c.identity.username,
    actorSource: c.identity.source,
    started: c.started.toISOString(),
    finished: finished.toISOString(),
    durationMs: finished.getTime() - c.started.getTime(),
    resources: { total: c.capture.objects.length, byKind },
    dependencies: c.capture.objects.filter((o) => o.dependencyOf).map((o) => ({ path: o.path, kind: o.ref.kind, name: o.ref.name, reason: o.dependencyOf! })),
    types: c.capture.types.map((t) => ({ group: t.group, version: t.version, resource: t.resource, kind: t.kind })).sort((a, b) => `${a.group}/${a.resource}`.localeCompare(`${b.group}/${b.resource}`)),
    skipped: { total: c.capture.skipped.length, byReason },
    volumes: volumeRecords,
    images: c.capture.images,
    hooks: c.hooks,
    warnings: [...c.log.warnings],
    options: {
      includeResources: c.options.includeResources ?? [],
      excludeResources: c.options.excludeResources ?? [],
      ...(c.options.labelSelector ? { labelSelector: c.options.labelSelector } : {}),
      volumes: c.volumesMode,
      failOnWarning: !!c.options.failOnWarning,
      tags: c.options.tags ?? [],
    },
  };
}

async function save(repo: Repository, c: SaveContext): Promise<{ snapshot: Snapshot; manifest: BackupManifest }> {
  const documents = c.capture.objects.map((o) => ({ name: o.path, data: JSON.stringify(o.object, null, 1), mediaType: JSON_TYPE }));
  const tags = [
    tag('kind', KIND_NAMESPACE_BACKUP),
    tag('namespace', c.namespace),
    tag('name', c.name),
    tag('cluster', c.info.cluster || c.info.server),
    ...(c.options.tags ?? []),
  ];
  c.log.progress('save', `saving ${documents.length} objects${c.volumes?.streams.length ? ` and ${c.volumes.streams.length} volume(s)` : ''}`);
  const onProgress = (e: ProgressEvent) =>
    c.log.progress('save', 'saving', {
      done: e.filesDone,
      total: e.filesTotal,
      bytesDone: e.bytesDone,
      bytesTotal: e.bytesTotal,
      ...(e.bytesAdded !== undefined ? { bytesAdded: e.bytesAdded } : {}),
      ...(e.currentItem ? { currentItem: e.currentItem } : {}),
    });
  let manifest!: BackupManifest;
  const volumeStreams = c.volumes?.streams ?? [];
  if (!volumeStreams.length) {
    await c.beforeManifest();
    manifest = buildManifest(c, []);
    c.log.info('save', `saving ${documents.length} documents`);
    documents.push({ name: MANIFEST_DOC, data: JSON.stringify(manifest, null, 1), mediaType: JSON_TYPE });
    documents.push({ name: LOG_DOC, data: c.log.toJsonl(), mediaType: 'application/x-ndjson' });
    const snapshot = await backup(repo, { documents }, { tags, signal: c.options.signal, onProgress, time: c.started });
    return { snapshot, manifest };
  }
  // With volume streams the manifest and log are written as the last stream items, after every
  // volume stream has ended, so that they hold the volumes' records and warnings.
  const ends: Array<Promise<void>> = [];
  const streams: NamedStream[] = volumeStreams.map((s) => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    ends.push(new Promise<void>((res, rej) => ((resolve = res), (reject = rej))));
    async function* counted(): AsyncGenerator<Uint8Array> {
      let bytes = 0;
      try {
        for await (const chunk of s.stream) {
          bytes += chunk.length;
          yield chunk;
        }
        c.log.info('volume.saved', `${s.name}: ${bytes} bytes`, { item: s.name, bytes });
        resolve();
      } catch (err) {
        reject(err);
        throw err;
      }
    }
    return { name: s.name, stream: counted(), mediaType: s.mediaType };
  });
  for (const p of ends) p.catch(() => {});
  const volumes = c.volumes!;
  const dataRead = Promise.all(ends).then(() => c.beforeManifest());
  dataRead.catch(() => {});
  const meta = (which: 'manifest' | 'log'): NamedStream => ({
    name: which === 'manifest' ? MANIFEST_DOC : LOG_DOC,
    mediaType: which === 'manifest' ? JSON_TYPE : 'application/x-ndjson',
    stream: (async function* () {
      await dataRead;
      if (which === 'manifest') {
        manifest = buildManifest(c, volumes.records());
        yield Buffer.from(JSON.stringify(manifest, null, 1));
      } else {
        await Promise.resolve();
        manifest ??= buildManifest(c, volumes.records());
        yield Buffer.from(c.log.toJsonl());
      }
    })(),
  });
  const snapshot = await backup(repo, { documents, streams: [...streams, meta('manifest'), meta('log')] }, { tags, signal: c.options.signal, onProgress, time: c.started });
  return { snapshot, manifest };
}
