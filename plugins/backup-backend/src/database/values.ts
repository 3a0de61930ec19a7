/** Column value conversions shared by the tables (the drivers differ: pg gives bigints as strings). */
import type { Knex } from 'knex';

export const toIso = (time: string | Date): string => new Date(time).toISOString();

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

export const optNum = (v: unknown): number | undefined =>
  v === null || v === undefined ? undefined : Number(v);

export const optStr = (v: unknown): string | undefined =>
  v === null || v === undefined ? undefined : String(v);

export function json<T>(v: unknown, fallback: T): T {
  if (typeof v !== 'string' || v === '') return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

/**
 * Omits undefined fields (the API's JSON has no nulls for absent values). A plain loop: it runs
 * for every row of every page, where Object.entries/fromEntries cost a sixth of a list request.
 */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = v;
  }
  return out as T;
}

/** Splits `rows` into chunks (SQLite has a bound-variable limit per statement). */
export function chunks<T>(rows: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** The rows of a raw statement (pg answers with a result holding them, SQLite with the rows). */
export async function rawRows<Row>(
  db: Knex | Knex.Transaction,
  sql: string,
  bindings: readonly unknown[],
): Promise<Row[]> {
  const result = (await db.raw(sql, bindings as Knex.RawBinding[])) as Row[] | { rows: Row[] };
  return Array.isArray(result) ? result : result.rows;
}
