/**
 * Statements of one name started in the same turn of the event loop, run as one: `union all` of
 * them, each row tagged with its statement's index. Many requests that miss the read caches at
 * once (e.g. the first requests for many entities) then cost one round trip to the database
 * instead of one each. Only for statements whose rows have the same columns whatever their
 * shape. A union keeps no order: statements whose rows are ordered give their order by columns
 * of their rows (`orderBy`), and the union is sorted by statement and then by those columns.
 */
import type { Knex } from 'knex';
import { settle, TurnBatches, type Waiter } from '../services/Batching/turnBatches.js';
import type { Statement } from './compiledStatements.js';
import { rawRows } from './values.js';

type Row = Record<string, unknown>;

/**
 * Statements run together at most. PostgreSQL plans a union longer than its parts (50 statuses:
 * 18 ms of planning, 30 ms in all), and every request of a batch waits for all of it: 8 keeps
 * most of the saving (a status 0.6 ms instead of 1.7 ms of the database's and node's time when
 * run one after another) with batches of a few ms.
 */
const MAX_BATCH = 8;

/**
 * Bound parameters of a batch at most (summed over its statements), well below the databases'
 * limits (SQLite's 32,766, PostgreSQL's 65,535): a statement with as many is run alone.
 */
const MAX_BINDINGS = 10_000;

/** The column of a row's statement in a batch (left in the rows given, which callers ignore). */
const INDEX = 'batch_index';

export interface RowOrder {
  column: string;
  order?: 'asc' | 'desc';
}

interface Pending {
  name: string;
  statement: Statement;
  orderBy: RowOrder[];
}

export class BatchedStatements {
  private readonly batches: TurnBatches<Pending, Row[]>;
  private readonly orders = new Map<string, string>();

  constructor(private readonly knex: Knex) {
    this.batches = new TurnBatches({
      run: (batch) => this.run(batch),
      maxItems: MAX_BATCH,
      weight: (p) => p.statement.bindings.length,
      maxWeight: MAX_BINDINGS,
    });
  }

  /**
   * The rows of `statement`, run with the other statements of `name` (which have the same
   * columns and `orderBy`) started in this turn. Rows read in a batch have a `batch_index` column
   * beside the statement's.
   */
  rows(name: string, statement: Statement, orderBy: RowOrder[] = []): Promise<Row[]> {
    return this.batches.add(name, { name, statement, orderBy });
  }

  /** `order by` of a batch's union: the statement, then `orderBy` (made once per name). */
  private orderOf({ name, orderBy }: Pending): string {
    let sql = this.orders.get(name);
    if (sql === undefined) {
      sql = this.knex
        .queryBuilder()
        .from('u')
        .orderBy([{ column: INDEX }, ...orderBy])
        .toSQL()
        .sql.replace(/^.* order by /, ' order by ');
      this.orders.set(name, sql);
    }
    return sql;
  }

  private alone({ statement }: Pending): Promise<Row[]> {
    return rawRows<Row>(this.knex, statement.sql, statement.bindings);
  }

  /**
   * A batch of one alone, else the union of its statements. When the union fails, each statement
   * is run alone: its caller gets its own rows or error, whatever another statement did.
   */
  private async run(batch: ReadonlyArray<Waiter<Pending, Row[]>>): Promise<void> {
    if (batch.length === 1) return settle(batch[0]!, this.alone(batch[0]!.item));
    let rows: Row[];
    try {
      const union = batch
        .map((w, i) => `select ${i} as ${INDEX}, b${i}.* from (${w.item.statement.sql}) b${i}`)
        .join(' union all ');
      const sql = `select * from (${union}) u${this.orderOf(batch[0]!.item)}`;
      rows = await rawRows<Row>(
        this.knex,
        sql,
        batch.flatMap((w) => w.item.statement.bindings),
      );
    } catch {
      await Promise.all(batch.map((w) => settle(w, this.alone(w.item))));
      return;
    }
    const perStatement = batch.map((): Row[] => []);
    for (const row of rows) perStatement[Number(row[INDEX])]!.push(row);
    batch.forEach((w, i) => w.resolve(perStatement[i]!));
  }
}
