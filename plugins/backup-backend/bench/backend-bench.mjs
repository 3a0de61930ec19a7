/* global fetch */
// Benchmark (not a test): the backup plugin over PostgreSQL with 100,000 backups of 500
// entities. 50 concurrent clients request an entity's status, the first page of an entity's
// backups and the first page of all backups; p50/p90/p99 per route. Target: p99 < 50 ms.
// Two passes over the same database: with the read caches (backup.cache.ttl, default 5 s, or
// BENCH_CACHE_TTL such as '2s') and with every cache off (ttl 0). Each route also gives the SQL
// statements per request (knex 'query' events) and how busy the clients' thread was.
// BENCH_UNCACHED=0 skips the second pass. Before the passes, a JIT warm-up (BENCH_WARMUP requests
// per route, default 1,000) runs on a backend of its own, so no measured cache is warmed by it.
// After them, the ingest benchmark (ingest-bench.mjs: a real repository of 10,000 backups into a
// database of its own on the same PostgreSQL; BENCH_INGEST=0 skips it).
//
//   npm run bench:backend                 (from the root: builds, then runs this)
//   BENCH_BACKUPS=20000 BENCH_REQUESTS=1000 node plugins/backup-backend/bench/backend-bench.mjs
//
// A throwaway PostgreSQL is started (initdb/pg_ctl, see src/testing/postgres.ts) and removed.
// The plugin runs in a Backstage test backend (real HTTP server, real router, database and
// query code; in-memory catalog; a permission policy that allows, so the permission calls are
// made but answered locally — a real permission backend adds its own round trip).
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import knexFactory from 'knex';
import backupPlugin from '../dist/index.js';
import { fillFirstPages } from '../dist/database/firstPages.js';
import { applyDatabaseMigrations } from '../dist/database/migrate.js';
import { startTestPostgres } from '../dist/testing/postgres.js';
import { fillBackupTotals } from '../migrations/20261201000000_backup_totals.js';
import { runIngestBench } from './ingest-bench.mjs';

const BACKUPS = Number(process.env.BENCH_BACKUPS ?? 100_000);
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 500);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5_000); // per route, all clients together
const CACHE_TTL = process.env.BENCH_CACHE_TTL; // the plugin's default when unset
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000); // JIT warm-up requests per route
const TARGET_P99_MS = 50;
const BATCH = 1000;

const ns = (i) => `svc-${String(i).padStart(3, '0')}`;
const hex = (n, width = 64) => n.toString(16).padStart(width, '0');

function log(message) {
  process.stderr.write(`${message}\n`);
}

async function seed(knex) {
  const now = Date.now();
  const perEntity = Math.ceil(BACKUPS / ENTITIES);
  let rows = [];
  let kinds = [];
  let audit = [];
  let seq = 0;
  const flush = async () => {
    if (rows.length) await knex('backups').insert(rows);
    if (kinds.length) await knex('backup_kinds').insert(kinds);
    if (audit.length) await knex('audit_events').insert(audit);
    rows = [];
    kinds = [];
    audit = [];
  };
  for (let b = 0; b < BACKUPS; b++) {
    const e = b % ENTITIES;
    const k = Math.floor(b / ENTITIES);
    // Every entity backed up every 4 hours, the newest first-ish, over perEntity × 4 h.
    const time = new Date(now - (perEntity - k) * 4 * 3600_000 - e * 1000).toISOString();
    const snapshot = hex(b + 1);
    const size = 5_000_000 + ((b * 7919) % 1_000_000);
    rows.push({
      repository: 'main',
      snapshot,
      name: `${ns(e)}-${k}`,
      namespace: ns(e),
      cluster: 'prod',
      time,
      duration_ms: 20_000 + (b % 40_000),
      actor: 'backstage:schedule/nightly',
      resources: 40,
      volumes: 1,
      volume_bytes: size - 100_000,
      size_total: size,
      size_added: Math.floor(size / 50),
      stored_added: Math.floor(size / 120),
      warnings: 0,
      warning_list: '[]',
      tags: '["schedule=nightly"]',
      verification_result: k % 10 === 0 ? 'passed' : null,
      verification_time: k % 10 === 0 ? time : null,
      verification_record: k % 10 === 0 ? `v-${b}` : null,
    });
    for (const [kind, count] of [
      ['Deployment', 3],
      ['ConfigMap', 12],
      ['Secret', 5],
    ])
      kinds.push({ repository: 'main', snapshot, kind, count });
    audit.push({
      repository: 'main',
      seq: ++seq,
      time,
      actor: 'backstage:schedule/nightly',
      action: 'backup.create',
      target: `${ns(e)}-${k}`,
      outcome: 'success',
      namespace: ns(e),
      cluster: 'prod',
      host: 'backstage',
    });
    if (b % 100 === 0)
      audit.push({
        repository: 'main',
        seq: ++seq,
        time,
        actor: 'alice',
        action: 'backup.create',
        target: `${ns(e)}-x${k}`,
        outcome: 'failure',
        namespace: ns(e),
        cluster: 'prod',
        host: 'laptop',
        details: '{"error":"forbidden"}',
      });
    if (rows.length >= BATCH) await flush();
  }
  await flush();
  // The per-target totals the ingest keeps, computed as their migration does from existing rows.
  await fillBackupTotals(knex);
  // And the first page of each target, as the start-up fills them after the migrations.
  await fillFirstPages(knex);
  // As autovacuum would leave it (visibility map, statistics), and flushed: otherwise autovacuum
  // and the checkpointer work on the fresh rows during the first measurements.
  await knex.raw('vacuum analyze');
  await knex.raw('checkpoint');
}

/** Runs the clients in a worker thread, so that they do not share the server's event loop. */
function load(base, headers, name, paths) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), {
      workerData: { base, headers, name, paths, clients: CLIENTS },
    });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once(
      'exit',
      (code) => code !== 0 && reject(new Error(`load worker exited with ${code}`)),
    );
  });
}

function printPass(pass) {
  console.log(`\n${pass.label}:`);
  console.log(
    [
      'route'.padEnd(36),
      'req/s',
      '   p50',
      '   p90',
      '   p99',
      '   max',
      'failed',
      'sql/req',
      'client',
      'p99 repeat',
    ].join(' '),
  );
  for (const r of pass.results) {
    console.log(
      [
        r.route.padEnd(36),
        String(r.perSecond).padStart(5),
        ...[r.p50, r.p90, r.p99, r.max].map((v) => v.toFixed(1).padStart(6)),
        String(r.failures).padStart(6),
        r.sqlPerRequest.toFixed(2).padStart(7),
        `${Math.round(r.clientBusy * 100)}%`.padStart(6),
        r.p99Repeat.toFixed(1).padStart(10),
      ].join(' '),
    );
  }
  const verdict = (field) => {
    const worst = Math.max(...pass.results.map((r) => r[field]));
    return `${worst < TARGET_P99_MS ? 'met' : 'NOT met'} (worst ${worst.toFixed(1)} ms)`;
  };
  console.log(
    `p99 target < ${TARGET_P99_MS} ms: ${verdict('p99')}; over repeated paths only: ${verdict('p99Repeat')}`,
  );
}

async function main() {
  log(`starting PostgreSQL…`);
  const pg = await startTestPostgres();
  const admin = knexFactory({ client: 'pg', connection: pg.connectionString });
  await admin.raw('create database bench');
  await admin.destroy();
  const knex = knexFactory({
    client: 'pg',
    connection: `${pg.connectionString}/bench`,
    pool: { min: 2, max: 20 },
  });
  let sqlStatements = 0;
  knex.on('query', () => sqlStatements++);
  let backend;
  try {
    await applyDatabaseMigrations(knex);
    let t = performance.now();
    await seed(knex);
    log(
      `seeded ${BACKUPS} backups of ${ENTITIES} entities in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
    const entities = Array.from({ length: ENTITIES }, (_, i) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: ns(i),
        namespace: 'default',
        annotations: {
          'backstage.io/kubernetes-namespace': ns(i),
          'kubectl-backup.io/cluster': 'prod',
        },
      },
      spec: { type: 'service', owner: 'team', lifecycle: 'production' },
    }));
    const headers = { Authorization: mockCredentials.user.header('user:default/bench') };
    const pick = (i) => ns((i * 7919) % ENTITIES);
    const routes = [
      ['GET /health (HTTP stack only)', () => `/health`],
      ['GET /entities/…/status', (i) => `/entities/component/default/${pick(i)}/status`],
      [
        'GET /backups?entityRef=…&limit=50',
        (i) => `/backups?entityRef=component:default/${pick(i)}&limit=50`,
      ],
      ['GET /backups?limit=50 (all)', () => `/backups?limit=50`],
    ];
    const off = CACHE_TTL === '0' || CACHE_TTL === '0s';
    const passes = [
      ...(off
        ? []
        : [
            {
              label: `read caches on (backup.cache.ttl ${CACHE_TTL ?? '5s, the default'})`,
              ttl: CACHE_TTL,
            },
          ]),
      ...(off || process.env.BENCH_UNCACHED !== '0'
        ? [{ label: 'caches off (backup.cache.ttl 0)', ttl: 0 }]
        : []),
    ];
    /** The plugin in a test backend with `ttl` (the plugin's default when undefined). */
    const start = async (ttl) => {
      backend = await startTestBackend({
        features: [
          backupPlugin,
          mockServices.rootConfig.factory({
            data: {
              backup: {
                repositories: [{ name: 'main', url: '/nonexistent/bench-repo', password: 'x' }],
                ingest: { frequency: { hours: 24 } },
                ...(ttl === undefined ? {} : { cache: { ttl } }),
              },
            },
          }),
          mockServices.database.factory({ knex, migrations: { skip: true } }),
          mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
          mockServices.scheduler.factory({ skipTaskRunOnStartup: true }),
          catalogServiceMock.factory({ entities }),
        ],
      });
      return `http://127.0.0.1:${backend.server.address().port}/api/backup`;
    };
    const stop = async () => {
      await backend.stop();
      backend = undefined;
    };
    const paths = (pathFor, n) => Array.from({ length: n }, (_, i) => pathFor(i));

    // JIT warm-up, not measured: every route under load, misses included, on a backend of its
    // own without caches (so that no measured cache is filled), as a server that has been up
    // for a while would be. The first pass is otherwise measured partly on unoptimized code.
    t = performance.now();
    const warmBase = await start(0);
    for (const [name, pathFor] of routes)
      await load(warmBase, headers, name, paths(pathFor, WARMUP));
    await stop();
    log(
      `JIT warm-up: ${WARMUP} requests per route in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );

    for (const pass of passes) {
      const base = await start(pass.ttl);
      // Warm-up: connections, caches (100 of the 500 entities, as before the caches existed).
      for (const [, pathFor] of routes)
        for (let i = 0; i < 100; i++)
          await (await fetch(`${base}${pathFor(i)}`, { headers })).arrayBuffer();
      pass.results = [];
      for (const [name, pathFor] of routes) {
        t = performance.now();
        const before = sqlStatements;
        const result = await load(base, headers, name, paths(pathFor, REQUESTS));
        result.sqlPerRequest = (sqlStatements - before) / result.requests;
        pass.results.push(result);
        log(`${pass.label}: ${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      await stop();
    }
    console.log(
      `\nbackup plugin on PostgreSQL: ${BACKUPS} backups, ${ENTITIES} entities, ${CLIENTS} concurrent clients, ${REQUESTS} requests per route (ms; sql/req: SQL statements per request; client: busy share of the clients' thread; p99 repeat: p99 of the requests for a path already asked for in the run)`,
    );
    for (const pass of passes) printPass(pass);
    const ingest =
      process.env.BENCH_INGEST === '0' ? undefined : await runIngestBench(pg.connectionString);
    console.log(
      JSON.stringify({
        backups: BACKUPS,
        entities: ENTITIES,
        clients: CLIENTS,
        passes: passes.map((p) => ({ label: p.label, results: p.results })),
        ...(ingest ? { ingest } : {}),
      }),
    );
    if (passes.some((p) => p.results.some((r) => r.failures > 0))) process.exitCode = 1;
  } finally {
    await backend?.stop();
    await knex.destroy();
    pg.stop();
  }
}

await main();
