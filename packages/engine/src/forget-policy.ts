/**
 * Retention policy for `forget`: which snapshots to keep and which to remove. Pure logic, no
 * storage. The semantics follow restic's `forget` (internal/restic/snapshot_policy.go):
 *
 * - Snapshots are divided into groups (`groupBy`, default host + paths like restic) and the
 *   policy is applied to each group on its own.
 * - Within a group, snapshots are walked newest first. `keepLast` keeps the N newest. Each
 *   bucket rule (`keepHourly`, `keepDaily`, `keepWeekly`, `keepMonthly`, `keepYearly`) keeps the
 *   newest snapshot of each of the last N distinct hours/days/ISO weeks/months/years that
 *   *have* snapshots (empty periods are not counted). If a bucket rule still has counts left
 *   when the walk reaches the oldest snapshot of the group, that oldest snapshot is kept too
 *   (restic ≥ 0.17: keeps the longest history the policy allows).
 * - `keepWithin` keeps every snapshot strictly newer than (newest snapshot − duration), where
 *   the newest snapshot is the newest one that is not in the future relative to `now`.
 * - `keepTags` keeps every snapshot that carries all tags of at least one entry; an entry is a
 *   comma-separated tag list (`'daily,important'` needs both tags, like restic's `--keep-tag`).
 * - A count of -1 (or Infinity) means "unlimited" (one per bucket, all buckets).
 *
 * **All bucketing is done in UTC** (hours, days, ISO-8601 weeks starting on Monday, months,
 * years), so the result does not depend on the machine's time zone. Durations use calendar
 * arithmetic in UTC too (`1m` back from 31 March is 2 March, as in Go's `AddDate`).
 *
 * Unlike restic, an empty policy is an error (UsageError) instead of "keep everything", so that
 * a missing flag never turns into a surprise and callers must say what they want.
 */
import { UsageError } from './errors.js';

export interface RetentionSnapshot {
  id: string;
  /** ISO-8601 time of the snapshot. */
  time: string;
  tags?: string[];
  host?: string;
  paths?: string[];
}

export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** A duration like `7d`, `2w`, `1y2m3d4h` (see parseDuration). */
  keepWithin?: string;
  /** Tag lists; `'a,b'` matches snapshots having both `a` and `b`. */
  keepTags?: string[];
}

export type GroupByField = 'host' | 'paths' | 'tags';

export interface RetentionOptions {
  /** Reference time (ms since epoch or Date); snapshots after it are ignored for keepWithin's anchor. */
  now?: number | Date;
  /** Default `['host', 'paths']`, like restic; `[]` puts every snapshot in one group. */
  groupBy?: GroupByField[];
}

export interface KeepDecision<T> {
  snapshot: T;
  /** Why it is kept, e.g. `daily snapshot`, `within 7d`, `tags daily,important`. */
  reasons: string[];
  /** The group key (`host=a;paths=/x`), empty when not grouped. */
  group: string;
}

export interface RemoveDecision<T> {
  snapshot: T;
  group: string;
}

export interface RetentionResult<T> {
  /** Newest first. */
  keep: KeepDecision<T>[];
  /** Newest first. */
  remove: RemoveDecision<T>[];
}

/** A calendar duration, as restic's: years, months, days, hours (weeks are folded into days). */
export interface CalendarDuration {
  years: number;
  months: number;
  days: number;
  hours: number;
}

const UNIT_NAMES: Record<string, string> = {
  y: 'years',
  m: 'months',
  w: 'weeks',
  d: 'days',
  h: 'hours',
};

/**
 * Parses `1y2m3d4h`-style durations: y = years, m = **months**, w = weeks (7 days), d = days,
 * h = hours; units in any order, each at most once. Throws UsageError otherwise.
 */
export function parseDuration(input: string): CalendarDuration {
  const text = input.trim();
  if (text === '') throw new UsageError('empty duration (expected e.g. 7d, 2w, 1y2m3d4h)');
  const seen = new Set<string>();
  const out: CalendarDuration = { years: 0, months: 0, days: 0, hours: 0 };
  const part = /(\d+)([a-zA-Z]?)/y;
  let pos = 0;
  while (pos < text.length) {
    part.lastIndex = pos;
    const m = part.exec(text);
    if (!m) {
      throw new UsageError(
        `invalid duration ${JSON.stringify(input)}: expected a number at ${JSON.stringify(text.slice(pos))} (e.g. 7d, 2w, 1y2m3d4h)`,
      );
    }
    const [, digits, unit] = m as unknown as [string, string, string];
    if (!unit) {
      throw new UsageError(`invalid duration ${JSON.stringify(input)}: no unit after ${digits} (use y, m, w, d or h)`);
    }
    if (!(unit in UNIT_NAMES)) {
      throw new UsageError(
        `invalid duration ${JSON.stringify(input)}: unknown unit ${JSON.stringify(unit)} (use y, m = months, w, d or h)`,
      );
    }
    if (seen.has(unit)) {
      throw new UsageError(`invalid duration ${JSON.stringify(input)}: ${UNIT_NAMES[unit]} given twice`);
    }
    seen.add(unit);
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) throw new UsageError(`invalid duration ${JSON.stringify(input)}: number too large`);
    switch (unit) {
      case 'y':
        out.years = n;
        break;
      case 'm':
        out.months = n;
        break;
      case 'w':
        out.days += 7 * n;
        break;
      case 'd':
        out.days += n;
        break;
      case 'h':
        out.hours = n;
        break;
    }
    pos = part.lastIndex;
  }
  return out;
}

function isZeroDuration(d: CalendarDuration): boolean {
  return d.years === 0 && d.months === 0 && d.days === 0 && d.hours === 0;
}

/** `t` minus a calendar duration, in UTC, with Go `AddDate` normalisation (Feb 31 → Mar 2/3). */
export function subtractDuration(t: number, d: CalendarDuration): number {
  const date = new Date(t);
  // One normalisation for year, month and day together, exactly like Go's AddDate.
  date.setUTCFullYear(date.getUTCFullYear() - d.years, date.getUTCMonth() - d.months, date.getUTCDate() - d.days);
  return date.getTime() - d.hours * 3_600_000;
}

/** ISO-8601 week-numbering year and week (1–53) of a UTC instant. */
export function isoWeek(t: number): { year: number; week: number } {
  const d = new Date(t);
  const day = (d.getUTCDay() + 6) % 7; // Monday = 0
  // The Thursday of this week decides the ISO year.
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  const week = Math.floor((thursday - jan1) / 86_400_000 / 7) + 1;
  return { year, week };
}

type Bucketer = (t: number, index: number) => string;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const hourBucket: Bucketer = (t) => new Date(t).toISOString().slice(0, 13);
const dayBucket: Bucketer = (t) => new Date(t).toISOString().slice(0, 10);
const weekBucket: Bucketer = (t) => {
  const { year, week } = isoWeek(t);
  return `${year}-W${pad(week)}`;
};
const monthBucket: Bucketer = (t) => new Date(t).toISOString().slice(0, 7);
const yearBucket: Bucketer = (t) => String(new Date(t).getUTCFullYear());
const everyBucket: Bucketer = (_t, index) => `#${index}`;

function checkCount(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (value === -1 || value === Infinity) return -1;
  if (!Number.isInteger(value) || value < 0) {
    throw new UsageError(`${name} must be a non-negative integer or -1 for unlimited, got ${value}`);
  }
  return value;
}

function parseTagLists(keepTags: string[] | undefined): string[][] {
  return (keepTags ?? []).map((entry) => {
    const tags = entry
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    if (tags.length === 0) throw new UsageError(`keepTags entry ${JSON.stringify(entry)} names no tag`);
    return tags;
  });
}

function groupKey(s: RetentionSnapshot, fields: GroupByField[]): string {
  return fields
    .map((f) => {
      if (f === 'host') return `host=${s.host ?? ''}`;
      const list = [...((f === 'paths' ? s.paths : s.tags) ?? [])].sort();
      return `${f}=${list.join(',')}`;
    })
    .join(';');
}

interface Item<T> {
  snapshot: T;
  t: number;
  index: number;
}

/**
 * Applies a retention policy. Returns every input snapshot exactly once, in `keep` (with the
 * reasons) or in `remove`. Throws UsageError for an empty or invalid policy or a snapshot whose
 * time does not parse.
 */
export function applyRetention<T extends RetentionSnapshot>(
  snapshots: readonly T[],
  policy: RetentionPolicy,
  options: RetentionOptions = {},
): RetentionResult<T> {
  const counts: [string, number, Bucketer][] = [
    ['last snapshot', checkCount('keepLast', policy.keepLast), everyBucket],
    ['hourly snapshot', checkCount('keepHourly', policy.keepHourly), hourBucket],
    ['daily snapshot', checkCount('keepDaily', policy.keepDaily), dayBucket],
    ['weekly snapshot', checkCount('keepWeekly', policy.keepWeekly), weekBucket],
    ['monthly snapshot', checkCount('keepMonthly', policy.keepMonthly), monthBucket],
    ['yearly snapshot', checkCount('keepYearly', policy.keepYearly), yearBucket],
  ];
  const within = policy.keepWithin !== undefined ? parseDuration(policy.keepWithin) : undefined;
  const withinActive = within !== undefined && !isZeroDuration(within);
  const tagLists = parseTagLists(policy.keepTags);
  if (counts.every(([, n]) => n === 0) && !withinActive && tagLists.length === 0) {
    throw new UsageError(
      'empty retention policy: give at least one keep rule (keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly, keep-within, keep-tag); refusing to remove every snapshot',
    );
  }
  const now = options.now === undefined ? Date.now() : +options.now;
  const groupBy = options.groupBy ?? ['host', 'paths'];

  const groups = new Map<string, Item<T>[]>();
  snapshots.forEach((snapshot) => {
    const t = Date.parse(snapshot.time);
    if (Number.isNaN(t)) throw new UsageError(`snapshot ${snapshot.id} has an invalid time ${JSON.stringify(snapshot.time)}`);
    const key = groupKey(snapshot, groupBy);
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push({ snapshot, t, index: 0 });
  });

  const keep: (KeepDecision<T> & { t: number })[] = [];
  const remove: (RemoveDecision<T> & { t: number })[] = [];
  for (const [group, items] of groups) {
    // Newest first; ties broken by id so the result never depends on input order.
    items.sort((a, b) => b.t - a.t || (a.snapshot.id < b.snapshot.id ? -1 : a.snapshot.id > b.snapshot.id ? 1 : 0));
    items.forEach((it, i) => (it.index = i));

    let latest = -Infinity;
    for (const it of items) if (it.t <= now && it.t > latest) latest = it.t;
    const withinFrom = withinActive && latest !== -Infinity ? subtractDuration(latest, within) : -Infinity;

    const state = counts.map(([reason, count, bucket]) => ({ reason, left: count, bucket, last: undefined as string | undefined }));
    for (const it of items) {
      const reasons: string[] = [];
      const tags = new Set(it.snapshot.tags ?? []);
      for (const list of tagLists) {
        if (list.every((t) => tags.has(t))) reasons.push(`tags ${list.join(',')}`);
      }
      if (withinActive && it.t > withinFrom) reasons.push(`within ${policy.keepWithin!.trim()}`);
      const oldest = it.index === items.length - 1;
      for (const b of state) {
        if (b.left === 0) continue;
        const value = b.bucket(it.t, it.index);
        if (value !== b.last) {
          b.last = value;
          if (b.left > 0) b.left--;
          reasons.push(b.reason);
        } else if (oldest) {
          // restic keeps the oldest snapshot while a bucket rule has counts left.
          if (b.left > 0) b.left--;
          reasons.push(`oldest snapshot (${b.reason.replace(' snapshot', '')} count left)`);
        }
      }
      if (reasons.length > 0) keep.push({ snapshot: it.snapshot, reasons, group, t: it.t });
      else remove.push({ snapshot: it.snapshot, group, t: it.t });
    }
  }
  const newestFirst = (a: { t: number; snapshot: T }, b: { t: number; snapshot: T }) =>
    b.t - a.t || (a.snapshot.id < b.snapshot.id ? -1 : a.snapshot.id > b.snapshot.id ? 1 : 0);
  keep.sort(newestFirst);
  remove.sort(newestFirst);
  return {
    keep: keep.map(({ snapshot, reasons, group }) => ({ snapshot, reasons, group })),
    remove: remove.map(({ snapshot, group }) => ({ snapshot, group })),
  };
}
