/** `delete … returning`, on PostgreSQL and SQLite alike. */
import type { Knex } from 'knex';
import { rawRows } from './values.js';

/**
 * Deletes the rows of `q` and gives their `columns`: only the rows this statement deleted (a
 * concurrent transaction that deleted them first leaves none). Raw SQL: knex's SQLite
 * compiler leaves `returning` out of a delete, and its clients answer a delete with a count.
 */
export async function deleteReturning<Row>(
  tx: Knex.Transaction,
  q: Knex.QueryBuilder,
  columns: readonly string[],
): Promise<Row[]> {
  const { sql, bindings } = q.delete().toSQL();
  const returning = columns.map(() => '??').join(', ');
  return rawRows<Row>(tx, `${sql} returning ${returning}`, [...bindings, ...columns]);
}
