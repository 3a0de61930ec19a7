/**
 * Statements compiled once per shape: the same rows as the statement knex builds with the values
 * themselves, one compilation per shape, and no cache key made when caching is off.
 */
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { testDatabases } from '../test-support/databases.js';
import { CompiledStatements, mark, statementKey, type Statement } from './compiledStatements.js';
import { TtlCache } from '../services/Cache/TtlCache.js';

const databases = testDatabases();

interface Filter {
  namespace?: string;
  targets?: Array<{ namespace: string; cluster?: string }>;
  offset: number;
  limit: number;
}

function build(knex: Knex, f: Filter): Knex.QueryBuilder {
  const q = knex('items').select('name', 'namespace', 'cluster');
  if (f.namespace) q.where('namespace', f.namespace);
  if (f.targets)
    q.where((outer) => {
      for (const t of f.targets!)
        outer.orWhere((w) => {
          w.where('namespace', t.namespace);
          if (t.cluster) w.where('cluster', t.cluster);
        });
    });
  return q.orderBy('name').offset(f.offset).limit(f.limit);
}

describe('mark', () => {
  it('gives values of one structure one shape, and keeps empty strings', () => {
    const a = mark({ targets: [{ namespace: 'a', cluster: 'x' }], offset: 0, limit: 5 });
    const b = mark({ targets: [{ namespace: 'b', cluster: 'y' }], offset: 10, limit: 50 });
    expect(a.shape).toBe(b.shape);
    expect(b.values).toEqual(['b', 'y', 10, 50]);
    expect(mark({ targets: [{ namespace: 'a' }], offset: 0, limit: 5 }).shape).not.toBe(a.shape);
    expect(mark({ namespace: '', offset: 0 }).marked.namespace).toBe('');
  });
});

describe('statement keys of the read caches', () => {
  it('makes no key when caching is off', async () => {
    const statement = {
      get sql(): string {
        throw new Error('key made');
      },
      bindings: [],
    } as Statement;
    const key = () => statementKey(statement);
    await expect(new TtlCache<number>({ ttlMs: 0 }).get(key, async () => 1)).resolves.toBe(1);
    expect(() => new TtlCache<number>({ ttlMs: 1000 }).get(key, async () => 1)).toThrow('key made');
  });
});

describe.each(databases.eachSupportedId())('CompiledStatements (%s)', (databaseId) => {
  async function seeded(): Promise<Knex> {
    const knex = await databases.init(databaseId);
    await knex.schema.createTable('items', (t) => {
      t.string('name').primary();
      t.string('namespace').notNullable();
      t.string('cluster').notNullable();
    });
    await knex('items').insert(
      Array.from({ length: 40 }, (_, i) => ({
        name: `n-${String(i).padStart(2, '0')}`,
        namespace: `ns-${i % 4}`,
        cluster: i % 3 ? 'prod' : 'dev',
      })),
    );
    return knex;
  }

  it('compiles once per shape and reads the rows knex reads with the values', async () => {
    const knex = await seeded();
    const statements = new CompiledStatements(knex);
    let builds = 0;
    const filters: Filter[] = [
      { targets: [{ namespace: 'ns-1', cluster: 'prod' }], offset: 0, limit: 4 },
      { targets: [{ namespace: 'ns-2', cluster: 'dev' }], offset: 2, limit: 3 },
      { targets: [{ namespace: 'ns-3' }], offset: 0, limit: 20 },
      {
        targets: [{ namespace: 'ns-0' }, { namespace: 'ns-1', cluster: 'dev' }],
        offset: 1,
        limit: 9,
      },
      { targets: [], offset: 0, limit: 5 },
      { namespace: 'ns-2', offset: 3, limit: 2 },
      { namespace: 'ns-3', offset: 0, limit: 50 },
    ];
    for (const f of filters) {
      const statement = statements.statement('items', mark(f), (v) => {
        builds++;
        return build(knex, v);
      });
      expect(await statements.rows(statement)).toEqual(await build(knex, f));
    }
    // Shapes: one target with a cluster, one without, two targets, none, a namespace.
    expect(builds).toBe(5);
  });

  it('refuses a marked value that is not a binding', async () => {
    const knex = await seeded();
    const statements = new CompiledStatements(knex);
    expect(() =>
      statements.statement('bad', mark({ column: 'name' }), (v) => knex('items').select(v.column)),
    ).toThrow('is not a binding');
  });
});
