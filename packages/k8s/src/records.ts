/** Finding backups by name or snapshot id, reading their objects, writing restore/verify records. */
import { backup, listItems, listSnapshots, readDocuments, readItem, type NamedItem, type Repository, type Snapshot } from '@kubectl-backup/engine';
import { K8sError } from './errors.js';
import { KIND_NAMESPACE_BACKUP, LOG_DOC, MANIFEST_DOC, parseResourceDocName, RESOURCES_PREFIX, tag, tagValue, type RecordKind } from './layout.js';
import type { BackupManifest } from './manifest.js';
import type { KubeObject, ObjectRef } from './types.js';

export interface BackupHandle {
  name: string;
  namespace: string;
  snapshot: Snapshot;
}

/** Every namespace backup, oldest first (optionally of one namespace). */
export async function listBackupSnapshots(repo: Repository, namespace?: string): Promise<Snapshot[]> {
  return listSnapshots(repo, { tags: [tag('kind', KIND_NAMESPACE_BACKUP), ...(namespace ? [tag('namespace', namespace)] : [])] });
}

/** A backup by name, or by snapshot id (prefix of at least 4 hex characters), or `latest` (with a namespace). */
export async function findBackup(repo: Repository, ref: string, options: { namespace?: string } = {}): Promise<BackupHandle> {
  const all = await listBackupSnapshots(repo, options.namespace);
  let snap: Snapshot | undefined;
  if (ref === 'latest') snap = all[all.length - 1];
  else snap = all.find((s) => tagValue(s.tags, 'name') === ref);
  if (!snap && /^[0-9a-f]{4,64}$/.test(ref)) {
    const matches = all.filter((s) => s.id.startsWith(ref));
    if (matches.length > 1) throw new K8sError('EUSAGE', `snapshot id ${ref} is ambiguous (${matches.length} backups); give more characters`);
    snap = matches[0];
  }
  if (!snap) {
    throw new K8sError('ENOTFOUND', `no backup named "${ref}"${options.namespace ? ` of namespace ${options.namespace}` : ''} in the repository (see \`kubectl backup list -A\`)`);
  }
  return { snapshot: snap, name: tagValue(snap.tags, 'name') ?? snap.id.slice(0, 8), namespace: tagValue(snap.tags, 'namespace') ?? '' };
}

export async function readJsonItem<T>(repo: Repository, snapshot: Snapshot, name: string): Promise<T> {
  return JSON.parse((await readItem(repo, snapshot, name)).toString('utf8')) as T;
}

export async function readManifest(repo: Repository, snapshot: Snapshot): Promise<BackupManifest> {
  return readJsonItem<BackupManifest>(repo, snapshot, MANIFEST_DOC);
}

/** The operation log of a backup or record, parsed. */
export async function readLog(repo: Repository, snapshot: Snapshot): Promise<Array<Record<string, unknown>>> {
  const text = (await readItem(repo, snapshot, LOG_DOC)).toString('utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface StoredObject {
  ref: ObjectRef;
  path: string;
  object: KubeObject;
}

/** Every Kubernetes object stored in a backup. */
export async function readBackupObjects(repo: Repository, snapshot: Snapshot | string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const { item, data } of readDocuments(repo, snapshot)) {
    if (!item.name.startsWith(RESOURCES_PREFIX)) continue;
    const parsed = parseResourceDocName(item.name);
    if (!parsed) continue;
    const object = JSON.parse(data.toString('utf8')) as KubeObject;
    out.push({ ref: { ...parsed, kind: object.kind }, path: item.name, object });
  }
  return out;
}

/** Items of a snapshot (for volume sizes). */
export async function backupItems(repo: Repository, snapshot: Snapshot): Promise<NamedItem[]> {
  return listItems(repo, snapshot);
}

export interface WriteRecordOptions {
  kind: Exclude<RecordKind, 'namespace-backup'>;
  /** Record name (unique-ish; shown in lists). */
  name: string;
  /** Namespace the operation acted on. */
  namespace: string;
  /** Name of the backup the record is about. */
  source: string;
  sourceSnapshot: string;
  cluster?: string;
  /** `meta/restore.json` or `meta/verify.json` */
  documentName: string;
  document: unknown;
  log: string;
  /** E.g. `result=passed`. */
  extraTags?: string[];
  time?: Date;
}

/** Writes a restore or verify record as an engine snapshot. */
export async function writeRecord(repo: Repository, options: WriteRecordOptions): Promise<Snapshot> {
  const tags = [
    tag('kind', options.kind),
    tag('namespace', options.namespace),
    tag('name', options.name),
    tag('source', options.source),
    tag('source-snapshot', options.sourceSnapshot),
    ...(options.cluster ? [tag('cluster', options.cluster)] : []),
    ...(options.extraTags ?? []).map((t) => (t.includes('/') ? t : `kubectl-backup/${t}`)),
  ];
  return backup(
    repo,
    {
      documents: [
        { name: options.documentName, data: JSON.stringify(options.document, null, 1), mediaType: 'application/json' },
        { name: LOG_DOC, data: options.log || '\n', mediaType: 'application/x-ndjson' },
      ],
    },
    { tags, time: options.time },
  );
}

/** Records of a kind, optionally about one backup. */
export async function listRecords(repo: Repository, kind: Exclude<RecordKind, 'namespace-backup'>, filter: { namespace?: string; source?: string } = {}): Promise<Snapshot[]> {
  return listSnapshots(repo, {
    tags: [tag('kind', kind), ...(filter.namespace ? [tag('namespace', filter.namespace)] : []), ...(filter.source ? [tag('source', filter.source)] : [])],
  });
}
