/** Snapshot objects: `snapshots/<id>`, sealed JSON. Listing, lookup by id prefix or `latest`. */
import type { RepoContext } from './context.js';
import { getSealedJson, putSealedJson } from './context.js';
import { randomId } from './crypto.js';
import { UsageError } from './errors.js';
import type { Snapshot } from './types.js';
import { mapLimit } from './util/concurrency.js';

export interface SnapshotFilter {
  host?: string;
  /** Every tag given must be present (`k=v` strings). */
  tags?: string[];
  paths?: string[];
}

export async function saveSnapshot(ctx: RepoContext, snapshot: Omit<Snapshot, 'id'>): Promise<Snapshot> {
  const id = randomId();
  await putSealedJson(ctx, `snapshots/${id}`, snapshot);
  return { ...snapshot, id };
}

export async function loadSnapshot(ctx: RepoContext, id: string): Promise<Snapshot> {
  const snap = await getSealedJson<Snapshot>(ctx, `snapshots/${id}`);
  return { ...snap, id };
}

export async function listSnapshotIds(ctx: RepoContext): Promise<string[]> {
  const ids: string[] = [];
  for await (const o of ctx.storage.list('snapshots/')) ids.push(o.key.slice('snapshots/'.length));
  return ids;
}

export function matchesFilter(s: Snapshot, filter: SnapshotFilter = {}): boolean {
  if (filter.host && s.host !== filter.host) return false;
  if (filter.tags?.some((t) => !s.tags.includes(t))) return false;
  if (filter.paths?.some((p) => !s.paths.includes(p))) return false;
  return true;
}

/** All snapshots matching the filter, oldest first. */
export async function listSnapshots(ctx: RepoContext, filter?: SnapshotFilter): Promise<Snapshot[]> {
  const ids = await listSnapshotIds(ctx);
  const snaps = await mapLimit(ids, 16, (id) => loadSnapshot(ctx, id));
  return snaps.filter((s) => matchesFilter(s, filter)).sort(byTime);
}

export function byTime(a: Snapshot, b: Snapshot): number {
  return a.time.localeCompare(b.time) || a.id.localeCompare(b.id);
}

/** Resolves `latest` (optionally filtered) or a unique id prefix (at least 4 characters). */
export async function findSnapshot(ctx: RepoContext, ref: string, filter?: SnapshotFilter): Promise<Snapshot> {
  if (ref === 'latest') {
    const all = await listSnapshots(ctx, filter);
    const last = all[all.length - 1];
    if (!last) throw new UsageError('the repository has no snapshot matching the filter');
    return last;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) {
    throw new UsageError(`"${ref}" is not a snapshot id (give at least 4 hex characters, or "latest")`);
  }
  const ids = (await listSnapshotIds(ctx)).filter((id) => id.startsWith(ref));
  if (ids.length === 0) throw new UsageError(`no snapshot ${ref} in this repository`);
  if (ids.length > 1) throw new UsageError(`snapshot id ${ref} is ambiguous (${ids.length} matches); give more characters`);
  return loadSnapshot(ctx, ids[0]!);
}

export async function deleteSnapshot(ctx: RepoContext, id: string): Promise<void> {
  await ctx.storage.delete(`snapshots/${id}`);
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
