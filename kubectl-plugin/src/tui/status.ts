/**
 * Pure rules of the namespace list: the recovery point objective (RPO) and a namespace's
 * backup status, and short ages ("3h ago") for the screens.
 */
import type { AuditEntry } from '@kubectl-backup/engine';
import type { NamespaceStatus } from './service.js';

export const DEFAULT_RPO = '24h';

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/**
 * `30m`, `24h`, `1d12h`, `2w` (m = minutes) in milliseconds; undefined when it is not one.
 * (The engine's retention durations use m for months: an RPO is never months.)
 */
export function parseRpo(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+[mhdw])+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([mhdw])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms > 0 ? ms : undefined;
}

export interface StatusInput {
  /** Time of the newest backup. */
  lastBackup?: string;
  /** Time of the newest failed backup attempt. */
  lastFailure?: string;
  rpoMs: number;
  now: number;
}

export function namespaceStatus(input: StatusInput): NamespaceStatus {
  const last = input.lastBackup ? Date.parse(input.lastBackup) : undefined;
  const failed = input.lastFailure ? Date.parse(input.lastFailure) : undefined;
  if (failed !== undefined && (last === undefined || failed > last)) return 'failed';
  if (last === undefined) return 'never';
  return input.now - last > input.rpoMs ? 'stale' : 'ok';
}

/** Newest failed `backup.create` per namespace (cancelled ones are not failures). */
export function lastFailures(entries: readonly AuditEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    if (e.action !== 'backup.create' || e.outcome !== 'failure' || !e.namespace) continue;
    const seen = out.get(e.namespace);
    if (!seen || Date.parse(e.time) > Date.parse(seen)) out.set(e.namespace, e.time);
  }
  return out;
}

/** `45s`, `12m`, `3h`, `5d`, `7w` (largest unit only). */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  if (s < 14 * 86_400) return `${Math.floor(s / 86_400)}d`;
  return `${Math.floor(s / (7 * 86_400))}w`;
}

/** `3h ago` from an ISO time. */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '?' : `${shortAge(now - t)} ago`;
}

/** The schedule that made a backup (its `schedule=NAME` tag), if any. */
export function scheduleOf(tags: readonly string[]): string | undefined {
  return tags.find((t) => t.startsWith('schedule='))?.slice('schedule='.length);
}

/** How a backup came to be: `schedule` (by a schedule's CronJob) or `manual`. */
export function triggerOf(tags: readonly string[]): 'schedule' | 'manual' {
  return scheduleOf(tags) === undefined ? 'manual' : 'schedule';
}
