/**
 * Diffs of a backup against another backup or against the live cluster, per object, after
 * sanitising both sides (so cluster-assigned fields do not show up as changes).
 */
import type { Repository } from '@kubectl-backup/engine';
import type { KubeClient } from './client.js';
import { toClient, type ClusterTarget } from './connection.js';
import { skipReason } from './discovery.js';
import { K8sError } from './errors.js';
import { mapLimit } from './rate-limit.js';
import { findBackup, readBackupObjects, readManifest, type StoredObject } from './records.js';
import { fullDiff, subsetDiff, type FieldChange } from './restore/diff-fields.js';
import { sanitizeObject } from './restore/sanitize.js';
import type { KubeObject } from './types.js';

export type ObjectChange = 'added' | 'removed' | 'changed' | 'unchanged';

export interface ObjectDiff {
  change: ObjectChange;
  kind: string;
  group: string;
  resource: string;
  namespace?: string;
  name: string;
  /** Field differences (`from` = the first side, `to` = the second). */
  fields?: FieldChange[];
}

export interface NamespaceDiff {
  from: { label: string; namespace: string };
  to: { label: string; namespace: string };
  objects: ObjectDiff[];
  summary: Record<ObjectChange, number>;
}

/** Objects keyed by type and name (namespace left out, so backups of two namespaces compare). */
function keyOf(o: Pick<StoredObject['ref'], 'group' | 'resource' | 'name'> & { namespace?: string }): string {
  return `${o.group}/${o.resource}/${o.namespace === undefined ? '_cluster' : 'ns'}/${o.name}`;
}

function clean(o: KubeObject): KubeObject {
  const s = sanitizeObject(o, { preserveNodePorts: true });
  delete s.metadata.namespace;
  return s;
}

function summarizeDiff(objects: ObjectDiff[]): Record<ObjectChange, number> {
  const out: Record<ObjectChange, number> = { added: 0, removed: 0, changed: 0, unchanged: 0 };
  for (const o of objects) out[o.change]++;
  return out;
}

function sortDiffs(objects: ObjectDiff[]): ObjectDiff[] {
  return objects.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** Every object added, removed or changed between two backups (`from` → `to`). */
export async function diffBackups(repo: Repository, fromRef: string, toRef: string): Promise<NamespaceDiff> {
  const [a, b] = [await findBackup(repo, fromRef), await findBackup(repo, toRef)];
  const [oa, ob] = [await readBackupObjects(repo, a.snapshot), await readBackupObjects(repo, b.snapshot)];
  const mb = new Map(ob.map((o) => [keyOf(o.ref), o]));
  const objects: ObjectDiff[] = [];
  for (const x of oa) {
    const y = mb.get(keyOf(x.ref));
    mb.delete(keyOf(x.ref));
    const base = { kind: x.ref.kind, group: x.ref.group, resource: x.ref.resource, ...(x.ref.namespace ? { namespace: x.ref.namespace } : {}), name: x.ref.name };
    if (!y) {
      objects.push({ change: 'removed', ...base });
      continue;
    }
    const fields = fullDiff(clean(x.object), clean(y.object));
    objects.push(fields.length ? { change: 'changed', ...base, fields } : { change: 'unchanged', ...base });
  }
  for (const y of mb.values()) objects.push({ change: 'added', kind: y.ref.kind, group: y.ref.group, resource: y.ref.resource, ...(y.ref.namespace ? { namespace: y.ref.namespace } : {}), name: y.ref.name });
  sortDiffs(objects);
  return { from: { label: a.name, namespace: a.namespace }, to: { label: b.name, namespace: b.namespace }, objects, summary: summarizeDiff(objects) };
}

/**
 * A backup (`from`) against the live namespace (`to`, default the backup's namespace): objects of
 * the backup's types. Changed fields are those of the backup whose live value differs (server
 * defaults are not differences); objects the skip list leaves out are ignored.
 */
export async function diffBackupWithCluster(repo: Repository, target: ClusterTarget, ref: string, options: { namespace?: string; signal?: AbortSignal } = {}): Promise<NamespaceDiff> {
  const client: KubeClient = toClient(target);
  const handle = await findBackup(repo, ref);
  const manifest = await readManifest(repo, handle.snapshot);
  const ns = options.namespace ?? manifest.namespace;
  const stored = await readBackupObjects(repo, handle.snapshot);
  const objects: ObjectDiff[] = [];
  const types = new Map<string, StoredObject[]>();
  for (const s of stored) {
    const k = `${s.ref.group}/${s.ref.version}/${s.ref.resource}/${s.ref.namespace === undefined ? 'c' : 'n'}`;
    types.set(k, [...(types.get(k) ?? []), s]);
  }
  // listed types without stored objects still count: objects made since are `added`
  for (const t of manifest.types ?? []) {
    const k = `${t.group}/${t.version}/${t.resource}/n`;
    if (!types.has(k)) types.set(k, []);
  }
  const entries = [...types.entries()].map(([k, group]) => {
    const [g, version, resource] = k.split('/') as [string, string, string];
    const kind = group[0]?.ref.kind ?? manifest.types?.find((t) => t.group === g && t.resource === resource)?.kind ?? '';
    return { group, first: { group: g, version, resource, kind, namespace: k.endsWith('/n') ? ns : undefined } };
  });
  await mapLimit(entries, 8, async ({ group, first }) => {
    const namespaced = first.namespace !== undefined;
    const loc = { group: first.group, version: first.version, resource: first.resource, namespaced };
    const live = new Map<string, KubeObject>();
    if (namespaced) {
      try {
        for (const o of await client.listAll(loc, ns, { labelSelector: manifest.options.labelSelector, signal: options.signal })) {
          if (!skipReason(o)) live.set(o.metadata.name ?? '', o);
        }
      } catch (err) {
        if (err instanceof K8sError && err.code === 'ENOTFOUND') return;
        throw err;
      }
    } else {
      await mapLimit(group, 8, async (s) => {
        const o = await client.getOptional(loc, undefined, s.ref.name, options.signal);
        if (o) live.set(s.ref.name, o);
      });
    }
    for (const s of group) {
      const base = { kind: s.ref.kind, group: s.ref.group, resource: s.ref.resource, ...(namespaced ? { namespace: ns } : {}), name: s.ref.name };
      const l = live.get(s.ref.name);
      live.delete(s.ref.name);
      if (!l) {
        objects.push({ change: 'removed', ...base });
        continue;
      }
      const fields = subsetDiff(clean(s.object), clean(l)).map((f) => ({ path: f.path, ...(f.to === undefined ? {} : { from: f.to }), ...(f.from === undefined ? {} : { to: f.from }) }));
      objects.push(fields.length ? { change: 'changed', ...base, fields } : { change: 'unchanged', ...base });
    }
    if (namespaced) {
      for (const [name, o] of live) objects.push({ change: 'added', kind: o.kind || first.kind, group: first.group, resource: first.resource, namespace: ns, name });
    }
  });
  sortDiffs(objects);
  return { from: { label: handle.name, namespace: manifest.namespace }, to: { label: `cluster (${client.kc.getCurrentContext()})`, namespace: ns }, objects, summary: summarizeDiff(objects) };
}

