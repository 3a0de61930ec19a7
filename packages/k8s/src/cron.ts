/**
 * Cron expressions as a Kubernetes CronJob accepts them: five fields (minute hour day-of-month
 * month day-of-week) with `*`, `?`, lists, ranges, steps and month/day names, or one of the
 * macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
 * Time zones go in `spec.timeZone`, not in a `TZ=` / `CRON_TZ=` prefix (the API refuses those).
 */
import { K8sError } from './errors.js';

export const CRON_MACROS = [
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
] as const;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** `?` allowed (day fields). */
  any?: boolean;
}

const FIELDS: Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, any: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS, any: true },
];

function usage(expr: string, why: string): K8sError {
  return new K8sError(
    'EUSAGE',
    `invalid cron schedule "${expr}": ${why} (expected 5 fields "minute hour day-of-month month day-of-week", e.g. "0 2 * * *", or ${CRON_MACROS.join(', ')})`,
  );
}

function value(text: string, f: Field, expr: string): number {
  const i = f.names?.indexOf(text.toLowerCase()) ?? -1;
  if (i >= 0) return f === FIELDS[3] ? i + 1 : i;
  if (!/^\d+$/.test(text)) throw usage(expr, `"${text}" is not a valid ${f.name}`);
  const n = Number(text);
  if (n < f.min || n > f.max) throw usage(expr, `${f.name} ${n} is out of range ${f.min}-${f.max}`);
  return n;
}

function checkField(text: string, f: Field, expr: string): void {
  for (const part of text.split(',')) {
    const [range, step, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '')
      throw usage(expr, `"${part}" is not a valid ${f.name}`);
    if (step !== undefined && (!/^\d+$/.test(step) || Number(step) === 0))
      throw usage(expr, `step "${step}" in the ${f.name} must be a positive number`);
    if (range === '*' || (range === '?' && f.any)) continue;
    const [from, to, more] = range.split('-');
    if (more !== undefined) throw usage(expr, `"${range}" is not a valid ${f.name} range`);
    const a = value(from!, f, expr);
    if (to !== undefined && value(to, f, expr) < a)
      throw usage(expr, `${f.name} range "${range}" ends before it starts`);
  }
}

/** Throws EUSAGE unless the CronJob API would accept `expr`; returns it trimmed. */
export function validateCron(expr: string): string {
  const text = expr.trim().replace(/\s+/g, ' ');
  if (!text) throw usage(expr, 'it is empty');
  if (/^(CRON_)?TZ=/.test(text))
    throw usage(
      expr,
      'a time zone prefix is not allowed; give the time zone separately (--time-zone)',
    );
  if (text.startsWith('@')) {
    if (!(CRON_MACROS as readonly string[]).includes(text))
      throw usage(expr, `unknown macro "${text}"`);
    return text;
  }
  const fields = text.split(' ');
  if (fields.length !== 5) throw usage(expr, `it has ${fields.length} field(s), not 5`);
  fields.forEach((field, i) => checkField(field, FIELDS[i]!, expr));
  return text;
}

/** Throws EUSAGE unless `zone` is an IANA time zone name this runtime knows (`Europe/Berlin`, `UTC`). */
export function validateTimeZone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new K8sError(
      'EUSAGE',
      `unknown time zone "${zone}" (expected an IANA name such as Europe/Berlin or UTC)`,
    );
  }
  return zone;
}
