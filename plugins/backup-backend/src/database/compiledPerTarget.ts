/**
 * A statement about one backup target, built and compiled by knex once per target shape (with or
 * without a cluster) and then run with each target's values. Building and compiling a statement
 * of three joined subqueries cost about as much node CPU as PostgreSQL took to run it.
 */
import type { Knex } from 'knex';
import type { BackupTarget } from '@kubectl-backup/plugin-backup-common';

const NAMESPACE = '\u0000namespace';
const CLUSTER = '\u0000cluster';

export function compiledPerTarget(
  knex: Knex,
  build: (target: BackupTarget) => Knex.QueryBuilder,
): (target: BackupTarget) => Knex.QueryBuilder {
  const compiled = new Map<boolean, Knex.Sql>();
  return (target) => {
    const withCluster = Boolean(target.cluster);
    let statement = compiled.get(withCluster);
    if (!statement) {
      const placeholders = withCluster
        ? { namespace: NAMESPACE, cluster: CLUSTER }
        : { namespace: NAMESPACE };
      statement = build(placeholders).toSQL();
      compiled.set(withCluster, statement);
    }
    const bindings = statement.bindings.map((b) =>
      b === NAMESPACE ? target.namespace : b === CLUSTER ? target.cluster! : b,
    );
    return knex.select('*').from(knex.raw(`(${statement.sql}) as statement`, bindings));
  };
}
