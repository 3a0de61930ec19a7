/**
 * Live progress of a backup, restore or verification as the progress screen shows it: a pure
 * reducer over the library's K8sProgressEvent stream (with the time of each event), so rates
 * and ETAs are computed the same way in tests and on a terminal.
 */
import { VOLUMES_PREFIX, type K8sProgressEvent } from '@kubectl-backup/k8s';

/**
 * The library's event, with the engine fields a save may forward: the item being written and
 * the bytes new to the repository so far (per-volume bars and dedup use them when present).
 */
export type ProgressEventIn = K8sProgressEvent & { currentItem?: string; bytesAdded?: number };

export interface ItemProgress {
  /** PVC name for volume items. */
  name: string;
  bytes: number;
  startedAt: number;
  updatedAt: number;
  done: boolean;
}

export interface ProgressState {
  phase: K8sProgressEvent['phase'] | 'start';
  message: string;
  startedAt: number;
  /** Phases seen, in order. */
  phases: Array<K8sProgressEvent['phase']>;
  /** Countable work of the current phase (types listed, objects applied, files saved). */
  count?: { phase: K8sProgressEvent['phase']; done: number; total: number };
  /** Resource types listed while capturing (kept after the phase). */
  typesListed?: { done: number; total: number };
  /** Bytes saved so far (backups), with the time the saving began. */
  bytes?: { done: number; total: number; since: number };
  /** Volume items written, when the events name them. */
  volumes: ItemProgress[];
  /** Plaintext bytes new to the repository, when the events carry it. */
  added?: number;
  warnings: string[];
  updatedAt: number;
}

export function initialProgress(now: number): ProgressState {
  return {
    phase: 'start',
    message: 'starting',
    startedAt: now,
    phases: [],
    volumes: [],
    warnings: [],
    updatedAt: now,
  };
}

function trackVolume(
  volumes: ItemProgress[],
  item: string | undefined,
  delta: number,
  now: number,
) {
  const out = volumes.map((v) => v);
  const current = item?.startsWith(VOLUMES_PREFIX)
    ? item.slice(VOLUMES_PREFIX.length).replace(/\.tar$/, '')
    : undefined;
  for (let i = 0; i < out.length; i++)
    if (!out[i]!.done && out[i]!.name !== current) out[i] = { ...out[i]!, done: true };
  if (current === undefined) return out;
  const i = out.findIndex((v) => v.name === current);
  if (i < 0) out.push({ name: current, bytes: delta, startedAt: now, updatedAt: now, done: false });
  else out[i] = { ...out[i]!, bytes: out[i]!.bytes + delta, updatedAt: now };
  return out;
}

export function reduceProgress(
  state: ProgressState,
  event: ProgressEventIn,
  now: number,
): ProgressState {
  if (event.level === 'warn')
    return { ...state, warnings: [...state.warnings, event.message], updatedAt: now };
  const next: ProgressState = {
    ...state,
    phase: event.phase,
    message: event.message,
    phases: state.phases.includes(event.phase) ? state.phases : [...state.phases, event.phase],
    updatedAt: now,
  };
  if (event.total !== undefined)
    next.count = { phase: event.phase, done: event.done ?? 0, total: event.total };
  else if (state.count?.phase !== event.phase) delete next.count;
  if (event.phase === 'capture' && event.total !== undefined)
    next.typesListed = { done: event.done ?? 0, total: event.total };
  if (event.bytesDone !== undefined) {
    const before = state.bytes?.done ?? 0;
    next.bytes = {
      done: event.bytesDone,
      total: Math.max(event.bytesTotal ?? 0, event.bytesDone),
      since: state.bytes?.since ?? now,
    };
    next.volumes = trackVolume(state.volumes, event.currentItem, event.bytesDone - before, now);
  }
  if (event.bytesAdded !== undefined) next.added = event.bytesAdded;
  if (event.phase === 'done') next.volumes = trackVolume(next.volumes, undefined, 0, now);
  return next;
}

/** Bytes per second between `since` and `now` (0 before a second has passed). */
export function rate(bytes: number, since: number, now: number): number {
  const ms = now - since;
  return ms >= 1000 ? (bytes * 1000) / ms : 0;
}

/** Milliseconds left at the current rate; undefined when the total or the rate is unknown. */
export function eta(done: number, total: number, bytesPerSecond: number): number | undefined {
  if (total <= done || bytesPerSecond <= 0) return undefined;
  return ((total - done) / bytesPerSecond) * 1000;
}

/** Share of the bytes saved that the repository already had (0..1), if known. */
export function dedupRatio(state: ProgressState): number | undefined {
  if (state.added === undefined || !state.bytes?.done) return undefined;
  return Math.max(0, 1 - state.added / state.bytes.done);
}
