/**
 * Cron occurrences in UTC, for the schedules' run slots and the status' next run: 5 fields
 * (minute hour day-of-month month day-of-week) or 6 with seconds first, as Backstage's scheduler
 * takes them; `*`, `?`, lists, ranges, steps, month and day names, the `@daily`-style macros.
 * parseCron validates the configured expressions at start-up.
 */

interface FieldSpec {
  min: number;
  max: number;
  names?: string[];
}

const SECOND: FieldSpec = { min: 0, max: 59 };
const MINUTE: FieldSpec = { min: 0, max: 59 };
const HOUR: FieldSpec = { min: 0, max: 23 };
const DOM: FieldSpec = { min: 1, max: 31 };
const MONTH: FieldSpec = {
  min: 1,
  max: 12,
  names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
};
const DOW: FieldSpec = { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] };

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export interface Cron {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Both day fields restricted: a day matches when either does (classic cron). */
  dayOr: boolean;
}

function parseValue(text: string, spec: FieldSpec, expr: string): number {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return spec === MONTH ? named + 1 : named;
  if (!/^\d+$/.test(text)) throw new Error(`invalid cron "${expr}": "${text}" is not a number`);
  const n = Number(text);
  if (n < spec.min || n > spec.max)
    throw new Error(`invalid cron "${expr}": ${n} is out of range ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec, expr: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new Error(`invalid cron "${expr}": bad step in "${part}"`);
    let from = spec.min;
    let to = spec.max;
    if (range !== '*' && range !== '?') {
      const [a, b] = range.split('-');
      from = parseValue(a ?? '', spec, expr);
      to = b === undefined ? (stepText === undefined ? from : spec.max) : parseValue(b, spec, expr);
      if (to < from)
        throw new Error(`invalid cron "${expr}": range "${range}" ends before it starts`);
    }
    for (let v = from; v <= to; v += step) out.add(spec === DOW && v === 7 ? 0 : v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const text = MACROS[expr.trim()] ?? expr.trim();
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6)
    throw new Error(`invalid cron "${expr}": expected 5 or 6 fields`);
  const [sec, min, hour, dom, month, dow] = fields.length === 6 ? fields : ['0', ...fields];
  return {
    seconds: parseField(sec!, SECOND, expr),
    minutes: parseField(min!, MINUTE, expr),
    hours: parseField(hour!, HOUR, expr),
    days: parseField(dom!, DOM, expr),
    months: parseField(month!, MONTH, expr),
    weekdays: parseField(dow!, DOW, expr),
    dayOr: !/^[*?]/.test(dom!) && !/^[*?]/.test(dow!),
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  const dom = c.days.has(d.getUTCDate());
  const dow = c.weekdays.has(d.getUTCDay());
  return c.dayOr ? dom || dow : dom && dow;
}

function matches(c: Cron, d: Date): boolean {
  return (
    c.months.has(d.getUTCMonth() + 1) &&
    dayMatches(c, d) &&
    c.hours.has(d.getUTCHours()) &&
    c.minutes.has(d.getUTCMinutes()) &&
    c.seconds.has(d.getUTCSeconds())
  );
}

const LIMIT_MS = 5 * 366 * 24 * 3600_000;

/** Walks from `start` (whole second) by `dir` until `c` matches, skipping non-matching days, hours, minutes. */
function walk(c: Cron, start: number, dir: 1 | -1): Date | undefined {
  const d = new Date(Math.floor(start / 1000) * 1000);
  const end = start + dir * LIMIT_MS;
  while (dir > 0 ? d.getTime() <= end : d.getTime() >= end) {
    if (!c.months.has(d.getUTCMonth() + 1) || !dayMatches(c, d)) {
      // To the first (or last) second of the next (or previous) day.
      if (dir > 0) d.setUTCHours(24, 0, 0, 0);
      else d.setTime(d.setUTCHours(0, 0, 0, 0) - 1000);
      continue;
    }
    if (!c.hours.has(d.getUTCHours())) {
      if (dir > 0) d.setUTCMinutes(60, 0, 0);
      else d.setTime(d.setUTCMinutes(0, 0, 0) - 1000);
      continue;
    }
    if (!c.minutes.has(d.getUTCMinutes())) {
      if (dir > 0) d.setUTCSeconds(60, 0);
      else d.setTime(d.setUTCSeconds(0, 0) - 1000);
      continue;
    }
    if (matches(c, d)) return d;
    d.setTime(d.getTime() + dir * 1000);
  }
  return undefined;
}

/** The first occurrence strictly after `after`. */
export function nextOccurrence(expr: string | Cron, after: Date): Date | undefined {
  const c = typeof expr === 'string' ? parseCron(expr) : expr;
  return walk(c, Math.floor(after.getTime() / 1000) * 1000 + 1000, 1);
}

/** The last occurrence at or before `at`: the slot a run started at `at` is for. */
export function previousOccurrence(expr: string | Cron, at: Date): Date | undefined {
  const c = typeof expr === 'string' ? parseCron(expr) : expr;
  return walk(c, at.getTime(), -1);
}
