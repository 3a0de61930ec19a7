/** Names of snapshot tags and documents (docs/layout.md is the written form of this file). */
import type { ObjectRef } from './types.js';

export const TAG_PREFIX = 'kubectl-backup/';
export const KIND_NAMESPACE_BACKUP = 'namespace-backup';
export const KIND_RESTORE_RECORD = 'restore-record';
export const KIND_VERIFY_RECORD = 'verify-record';
export type RecordKind = typeof KIND_NAMESPACE_BACKUP | typeof KIND_RESTORE_RECORD | typeof KIND_VERIFY_RECORD;

export const MANIFEST_DOC = 'meta/backup.json';
export const LOG_DOC = 'meta/log.jsonl';
export const RESTORE_DOC = 'meta/restore.json';
export const VERIFY_DOC = 'meta/verify.json';
export const RESOURCES_PREFIX = 'resources/';
export const VOLUMES_PREFIX = 'volumes/';

/** `kubectl-backup/<key>=<value>` */
export function tag(key: string, value: string): string {
  return `${TAG_PREFIX}${key}=${value}`;
}

/** The value of tag `key` of a snapshot, if present. */
export function tagValue(tags: readonly string[], key: string): string | undefined {
  const prefix = `${TAG_PREFIX}${key}=`;
  return tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
}

/** `resources/<group or core>/<version>/<resource>/<namespace or _cluster>/<name>.json` */
export function resourceDocName(ref: Pick<ObjectRef, 'group' | 'version' | 'resource' | 'namespace' | 'name'>): string {
  return `${RESOURCES_PREFIX}${ref.group || 'core'}/${ref.version}/${ref.resource}/${ref.namespace ?? '_cluster'}/${ref.name}.json`;
}

/** The inverse of resourceDocName (kind unknown: empty). */
export function parseResourceDocName(name: string): Omit<ObjectRef, 'kind'> | undefined {
  const m = /^resources\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)\/(.+)\.json$/.exec(name);
  if (!m) return undefined;
  return { group: m[1] === 'core' ? '' : m[1]!, version: m[2]!, resource: m[3]!, namespace: m[4] === '_cluster' ? undefined : m[4], name: m[5]! };
}

/** `volumes/<pvc>.tar` */
export function volumeItemName(pvc: string): string {
  return `${VOLUMES_PREFIX}${pvc}.tar`;
}

/** `<ns>-20260102t030405z`: a backup name from a namespace and a time (RFC 1123-friendly, UTC). */
export function defaultBackupName(namespace: string, time: Date): string {
  const ts = time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '').toLowerCase();
  return `${namespace}-${ts}`;
}

const NAME_RE = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
export function isValidRecordName(name: string): boolean {
  return NAME_RE.test(name);
}
