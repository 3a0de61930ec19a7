/**
 * A row's JSON built by the database (PostgreSQL, SQLite): a list page is then read as one text
 * per row and sent as it is, instead of parsing every column, mapping it to an object and
 * serializing that again. Absent values (SQL nulls) are left out, as `compact` does.
 */
import type { Knex } from 'knex';

export type JsonDialect = 'pg' | 'sqlite';

/**
 * A JSON value: a column, a JSON array kept as text in a column, or a nested object of columns
 * whose fields are all required (present only when none of its columns is null).
 */
export type JsonValue =
  | { column: string }
  | { jsonText: string; fallback: string }
  | { object: ReadonlyArray<readonly [name: string, value: { column: string }]> };

/** The fields of a JSON object, in order. */
export type JsonFields = ReadonlyArray<readonly [name: string, value: JsonValue]>;

/** The dialect whose JSON functions are used, if the database has them. */
export function jsonDialect(knex: Knex): JsonDialect | undefined {
  const dialect = (knex.client as { dialect?: string }).dialect;
  if (dialect === 'postgresql') return 'pg';
  if (dialect === 'sqlite3' || dialect === 'better-sqlite3') return 'sqlite';
  return undefined;
}

const quoted = (column: string) => `"${column.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

function value(d: JsonDialect, v: JsonValue): string {
  if ('column' in v) return quoted(v.column);
  if ('jsonText' in v) {
    const text = `coalesce(nullif(${quoted(v.jsonText)}, ''), ${literal(v.fallback)})`;
    return d === 'pg' ? `${text}::json` : `json(${text})`;
  }
  const present = v.object.map(([, c]) => `${quoted(c.column)} is not null`).join(' and ');
  const nested = `case when ${present} then ${object(d, v.object)} end`;
  return d === 'pg' ? nested : `json(${nested})`;
}

function object(d: JsonDialect, fields: JsonFields): string {
  const args = fields.map(([name, v]) => `${literal(name)}, ${value(d, v)}`).join(', ');
  return d === 'pg' ? `json_build_object(${args})` : `json_object(${args})`;
}

/**
 * SQL of the JSON text of a row with `fields`, without nulls (PostgreSQL's json_strip_nulls;
 * SQLite's json_patch, whose merge drops the members that are null). No bindings.
 */
export function rowJson(d: JsonDialect, fields: JsonFields): string {
  return d === 'pg'
    ? `json_strip_nulls(${object(d, fields)})::text`
    : `json_patch('{}', ${object(d, fields)})`;
}

/** The columns `fields` read, in order. */
export function jsonColumns(fields: JsonFields): string[] {
  return fields.flatMap(([, v]) => {
    if ('column' in v) return [v.column];
    if ('jsonText' in v) return [v.jsonText];
    return v.object.map(([, c]) => c.column);
  });
}
