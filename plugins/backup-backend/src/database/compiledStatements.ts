/**
 * Statements built and compiled by knex once per shape, then run with each request's values.
 * Building and compiling a statement cost about as much node CPU as PostgreSQL took to run it
 * (the status's three joined subqueries; a list page and its total). A request's values are
 * swapped for markers (`mark`): statements built from marked values of the same structure (which
 * fields are set, how many targets, each with or without a cluster) have the same SQL, and the
 * values are put back in place of the markers' bindings.
 */
import type { Knex } from 'knex';
import { rawRows } from './values.js';

type Row = Record<string, unknown>;

/** Markers: strings `\u0000<i>`, numbers from 2^40 (nothing built into a statement is that large). */
const STRING_MARK = '\u0000';
const NUMBER_MARK = 2 ** 40;

/** Shapes compiled at most per CompiledStatements (the oldest go first). */
const MAX_SHAPES = 1_000;

export interface Marked<V> {
  /** The value with markers in place of its non-empty strings and its numbers. */
  marked: V;
  /** What the markers stand for, in order. */
  values: unknown[];
  /** The structure of the value: the same shape, the same statements. */
  shape: string;
}

/**
 * Marks the non-empty strings and the numbers of `value` (plain objects and arrays, walked in key
 * order). A marker is truthy exactly when its value is, but for 0 (a knex `offset(0)` leaves the
 * clause out, `offset ?` with 0 reads the same rows).
 */
export function mark<V>(value: V): Marked<V> {
  const values: unknown[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string' && v !== '') return `${STRING_MARK}${values.push(v) - 1}`;
    if (typeof v === 'number') return NUMBER_MARK + values.push(v) - 1;
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Row = {};
    for (const key of Object.keys(v)) out[key] = walk((v as Row)[key]);
    return out;
  };
  const marked = walk(value) as V;
  return { marked, values, shape: JSON.stringify(marked) };
}

function unmark(binding: unknown, values: unknown[]): unknown {
  if (typeof binding === 'number')
    return binding >= NUMBER_MARK ? values[binding - NUMBER_MARK] : binding;
  if (typeof binding === 'string' && binding.startsWith(STRING_MARK))
    return values[Number(binding.slice(STRING_MARK.length))];
  return binding;
}

/** A statement ready to run, and its key for the read caches (computed only when asked). */
export interface Statement {
  sql: string;
  bindings: readonly unknown[];
}

export const statementKey = (s: Statement): string => `${s.sql}\u0000${JSON.stringify(s.bindings)}`;

export class CompiledStatements {
  private readonly compiled = new Map<string, Knex.Sql>();

  constructor(private readonly knex: Knex) {}

  /** `build(m.marked)` with `m`'s values: compiled on the first use of `name` with `m`'s shape. */
  statement<V>(name: string, m: Marked<V>, build: (marked: V) => Knex.QueryBuilder): Statement {
    const key = `${name}\u0000${m.shape}`;
    let sql = this.compiled.get(key);
    if (!sql) {
      sql = build(m.marked).toSQL();
      if (sql.sql.includes(STRING_MARK))
        throw new Error(`a marked value of "${name}" is not a binding: ${sql.sql}`);
      if (this.compiled.size >= MAX_SHAPES)
        this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, sql);
    }
    return { sql: sql.sql, bindings: sql.bindings.map((b) => unmark(b, m.values)) };
  }

  /** The rows of a statement. */
  rows(s: Statement): Promise<Row[]> {
    return rawRows<Row>(this.knex, s.sql, s.bindings);
  }
}
