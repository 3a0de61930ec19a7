/** The invariant of `backup_totals`: every row equals a COUNT/SUM over the backups of its target. */
import type { Knex } from 'knex';
import { expect } from 'vitest';
import { num } from '../database/values.js';

type Row = Record<string, unknown>;

const byTarget = (rows: Row[]) =>
  rows
    .map((r) => ({
      target: `${String(r.repository)}/${String(r.cluster)}/${String(r.namespace)}`,
      count: num(r.count),
      logical: num(r.logical),
      stored: num(r.stored),
    }))
    .sort((a, b) => a.target.localeCompare(b.target));

/** Asserts that the totals are those of the backup rows, and returns them. */
export async function expectTotalsOfRows(knex: Knex) {
  const rows = byTarget(
    await knex('backups')
      .select('repository', 'namespace', 'cluster')
      .count({ count: '*' })
      .sum({ logical: 'size_total', stored: 'stored_added' })
      .groupBy('repository', 'namespace', 'cluster'),
  );
  const totals = byTarget(
    await knex('backup_totals').select(
      'repository',
      'namespace',
      'cluster',
      'backup_count as count',
      'logical_bytes as logical',
      'stored_bytes as stored',
    ),
  );
  expect(totals).toEqual(rows);
  return totals;
}
