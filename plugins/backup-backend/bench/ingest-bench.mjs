// Ingest benchmark (not a test): the plugin's ingest (createIngestService, what the scheduler's
// `backup-ingest` task runs) of a real repository of BENCH_INGEST_SNAPSHOTS namespace backups
// (default 10,000, over BENCH_INGEST_NAMESPACES namespaces, default 100) into a fresh PostgreSQL
// database. Three timed runs: the first (every snapshot new), one with nothing new, and one after
// 100 more backups. The repository is written first (not timed; see ingest-repository.mjs) in a
// temporary directory, removed at the end.
//
//   node plugins/backup-backend/bench/ingest-bench.mjs     (starts its own PostgreSQL)
//   also run at the end of backend-bench.mjs (BENCH_INGEST=0 skips it there)
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import knexFactory from 'knex';
import { IngestStore } from '../dist/database/IngestStore.js';
import { applyDatabaseMigrations } from '../dist/database/migrate.js';
import { createIngestService } from '../dist/services/Ingest/createIngestService.js';
import { RepositoryPool } from '../dist/services/Repositories/RepositoryPool.js';
import { startTestPostgres } from '../dist/testing/postgres.js';
import { PASSWORD, startBenchRepository } from './ingest-repository.mjs';

const SNAPSHOTS = Number(process.env.BENCH_INGEST_SNAPSHOTS ?? 10_000);
const NAMESPACES = Number(process.env.BENCH_INGEST_NAMESPACES ?? 100);
const MORE = 100;

const log = (message) => process.stderr.write(`${message}\n`);
const seconds = (t) => (performance.now() - t) / 1000;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const quiet = () => undefined;
const logger = {
  debug: quiet,
  info: quiet,
  warn: log,
  error: log,
  child() {
    return logger;
  },
};

/** Runs the ingest benchmark on the PostgreSQL at `connectionString`; returns its figures. */
export async function runIngestBench(connectionString) {
  const loadBefore = load();
  let t = performance.now();
  const repo = await startBenchRepository({ namespaces: NAMESPACES });
  const admin = knexFactory({ client: 'pg', connection: connectionString });
  let knex;
  try {
    await repo.add(SNAPSHOTS);
    const written = seconds(t);
    log(
      `ingest bench: wrote ${SNAPSHOTS} backups of ${NAMESPACES} namespaces in ${written.toFixed(1)} s`,
    );
    await admin.raw('create database ingest_bench');
    knex = knexFactory({ client: 'pg', connection: `${connectionString}/ingest_bench` });
    await applyDatabaseMigrations(knex);
    let sql = 0;
    knex.on('query', () => sql++);
    const ingest = createIngestService({
      repositories: new RepositoryPool([{ name: 'main', url: repo.repoDir, password: PASSWORD }]),
      store: new IngestStore(knex),
      logger,
    });
    const run = async (label) => {
      const before = sql;
      const start = performance.now();
      const result = await ingest.ingestRepository('main');
      const s = seconds(start);
      if (result.error) throw new Error(`ingest failed: ${result.error}`);
      const r = {
        label,
        seconds: Number(s.toFixed(2)),
        backupsAdded: result.backupsAdded,
        auditAdded: result.auditAdded,
        backupsPerSecond: Math.round(result.backupsAdded / s),
        sql: sql - before,
      };
      log(`ingest bench: ${label}: ${r.seconds} s`);
      return r;
    };
    const runs = [await run('first (all new)'), await run('nothing new')];
    await repo.add(MORE);
    runs.push(await run(`${MORE} new`));
    const [{ count }] = await knex('backups').count({ count: '*' });
    if (Number(count) !== repo.written)
      throw new Error(`${count} backup rows for ${repo.written} backups`);
    const figures = {
      snapshots: SNAPSHOTS,
      namespaces: NAMESPACES,
      writeSeconds: Number(written.toFixed(1)),
      loadBefore,
      loadAfter: load(),
      runs,
    };
    print(figures);
    return figures;
  } finally {
    await knex?.destroy();
    await admin.destroy();
    await repo.dispose();
  }
}

function print(f) {
  console.log(
    `\ningest of a repository of ${f.snapshots} backups (${f.namespaces} namespaces, audit entries alike) into PostgreSQL; load average ${f.loadBefore} before, ${f.loadAfter} after:`,
  );
  console.log(['run'.padEnd(18), 'seconds', 'backups', 'backups/s', 'audit', '   sql'].join(' '));
  for (const r of f.runs)
    console.log(
      [
        r.label.padEnd(18),
        r.seconds.toFixed(2).padStart(7),
        String(r.backupsAdded).padStart(7),
        String(r.backupsPerSecond).padStart(9),
        String(r.auditAdded).padStart(5),
        String(r.sql).padStart(6),
      ].join(' '),
    );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const pg = await startTestPostgres();
  try {
    console.log(JSON.stringify({ ingest: await runIngestBench(pg.connectionString) }));
  } finally {
    pg.stop();
  }
}
