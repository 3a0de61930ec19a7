#!/usr/bin/env node
// Namespace benchmark (not a test; it prints figures, asserts none):
//   node packages/k8s/bench/namespace-bench.mjs [--count N] [--replicas R] [--concurrency C]
//        [--dir DIR] [--keep] [--no-pause] [--skip-cli] [--cpu-prof DIR]
//        [--restore-qps Q] [--restore-concurrency C]
// kube-sim runs as its own process; a namespace of N objects (40 % ConfigMaps, 30 % Secrets,
// 15 % Deployments with R replicas, 15 % Services) is seeded (not timed). Then, through the
// library (@kubectl-backup/k8s, a local repository in DIR), each step in its own process:
// an initial backup, a second backup of the unchanged namespace (time and bytes it stored), a
// restore into a new namespace (the defaults: it waits for the Deployments to be ready); and
// once through the built CLI (`kubectl-backup create`, into a repository of its own), a person's
// end-to-end time. The last line of output is one JSON object with the figures.
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, rm, rmdir } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { LocalStorage, Repository } from '@kubectl-backup/engine';
import { countKinds, mixFor, seedClient, seedNamespace, startKubeSim } from './namespace-seed.mjs';
import { hasTime, printColumns, timedRun } from '../../engine/bench/timed-run.mjs';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const CLI = here('../../../kubectl-plugin/dist/bin.js');

/** node:util parseArgs with a one-line error (exit 2) instead of a stack trace. */
function parseArgsOrExit(config) {
  try {
    return parseArgs(config);
  } catch (err) {
    console.error(`error: ${err.message}`);
    process.exit(2);
  }
}

const { values: opt } = parseArgsOrExit({
  options: {
    count: { type: 'string', default: '10000' },
    replicas: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '32' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'no-pause': { type: 'boolean', default: false },
    'skip-cli': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    'restore-qps': { type: 'string' },
    'restore-concurrency': { type: 'string' },
  },
});
const COUNT = Number(opt.count);
const REPLICAS = Number(opt.replicas);
const given = (name) => opt[name] !== undefined;
if (
  !(COUNT >= 4) ||
  !(REPLICAS >= 0) ||
  !(Number(opt.concurrency) >= 1) ||
  (given('restore-qps') && !(Number(opt['restore-qps']) >= 0)) ||
  (given('restore-concurrency') && !(Number(opt['restore-concurrency']) >= 1))
) {
  console.error(
    'error: --count must be ≥ 4, --replicas ≥ 0, --concurrency ≥ 1, --restore-qps ≥ 0, --restore-concurrency ≥ 1',
  );
  process.exit(2);
}
const TARGETS = { backupSeconds: 10, restoreSeconds: 60, rebackupStoredPct: 1 };
const NS = 'bench';
const RESTORE_NS = 'bench-restore';
const PASSWORD = 'bench-password';
const MiB = 1 << 20;

const made = !opt.dir || !existsSync(opt.dir);
const work = opt.dir ? resolve(opt.dir) : await mkdtemp(join(tmpdir(), 'namespace-bench-'));
const parts = ['sim', 'repo', 'cli-repo', 'cli-home', '.rss'];
const repoDir = join(work, 'repo');
const cliRepoDir = join(work, 'cli-repo');
const log = (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const profDir = (name) => (opt['cpu-prof'] ? resolve(opt['cpu-prof'], name) : undefined);

/** Runs a command (see timed-run.mjs). */
const run = (cmd, args, env = process.env) => timedRun(cmd, args, { env, scratchDir: work });

/** A library step (namespace-step.mjs) in its own process; its JSON line is `result`. */
async function step(name, ...args) {
  const prof = profDir(name) ? ['--cpu-prof', '--cpu-prof-dir', profDir(name)] : [];
  const env = {
    ...process.env,
    BENCH_PASSWORD: PASSWORD,
    BENCH_RESTORE_QPS: opt['restore-qps'],
    BENCH_RESTORE_CONCURRENCY: opt['restore-concurrency'],
  };
  const r = await run(process.execPath, [...prof, here('namespace-step.mjs'), ...args], env);
  const result = JSON.parse(r.stdout.trim().split('\n').pop());
  return {
    ...r,
    result,
    rssBytes: r.rssBytes ?? result.maxRssBytes,
    cpuSeconds: r.cpuSeconds ?? result.cpuSeconds,
  };
}

/** The built CLI with a sandbox HOME, the bench's kubeconfig and the CLI's own repository. */
function cli(kubeconfig, ...args) {
  const prof =
    profDir('cli') && args[0] === 'create' ? ['--cpu-prof', '--cpu-prof-dir', profDir('cli')] : [];
  return run(process.execPath, [...prof, CLI, ...args], {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: join(work, 'cli-home'),
    KUBECONFIG: kubeconfig,
    KUBECTL_BACKUP_REPOSITORY: cliRepoDir,
    KUBECTL_BACKUP_PASSWORD: PASSWORD,
  });
}

/** Total size of the regular files under a directory (the repository's bytes on disk). */
async function treeBytes(dir) {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else if (e.isFile()) total += (await lstat(p)).size;
  }
  return total;
}

/** Runs `fn` and measures how much the repository grew meanwhile. */
async function growing(dir, fn) {
  const before = await treeBytes(dir);
  const r = await fn();
  return { ...r, growth: (await treeBytes(dir)) - before };
}

/** Runs `fn` and measures the CPU seconds kube-sim used meanwhile. */
async function serving(sim, fn) {
  const before = sim.cpuSeconds();
  const r = await fn();
  const after = sim.cpuSeconds();
  return { ...r, serverCpuSeconds: before == null || after == null ? null : after - before };
}

await mkdir(work, { recursive: true });
await Promise.all(parts.map((p) => rm(join(work, p), { recursive: true, force: true })));
const mix = mixFor(COUNT);
log(
  `work dir ${work}; ${COUNT} objects: ${Object.entries(mix)
    .map(([k, n]) => `${n} ${k}s`)
    .join(', ')}; Deployments with ${REPLICAS} replica(s)`,
);
log(
  `${cpus().length} CPUs, load average ${load()} (other processes share the CPUs: figures are noisier when it is high)`,
);
log(
  `peak RSS and CPU time via ${hasTime ? '/usr/bin/time' : 'process.resourceUsage() of the step runner'}`,
);
if (opt['cpu-prof'])
  log(`CPU profiles under ${resolve(opt['cpu-prof'])} (one directory per step, kube-sim included)`);

const loadAtStart = loadavg();
const sim = await startKubeSim(join(work, 'sim'), { cpuProfDir: profDir('kube-sim') });
try {
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfig);
  const client = seedClient(kc);
  log(
    `kube-sim ${sim.pid} ready; seeding namespace ${NS} (not timed; controllers ${opt['no-pause'] ? 'running' : 'paused while creating'}, concurrency ${opt.concurrency})`,
  );
  const t0 = performance.now();
  await seedNamespace(client, NS, mix, {
    replicas: REPLICAS,
    concurrency: Number(opt.concurrency),
    pauseControllers: !opt['no-pause'],
    log,
  });
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  await Repository.init(new LocalStorage(repoDir), PASSWORD).then((r) => r.close());
  const s = {};
  log(`library: initial backup (load ${load()})`);
  s.first = await growing(repoDir, () =>
    serving(sim, () => step('backup-1', 'backup', repoDir, sim.kubeconfig, NS, 'bench-1')),
  );
  log(`library: second backup, namespace unchanged (load ${load()})`);
  s.second = await growing(repoDir, () =>
    serving(sim, () => step('backup-2', 'backup', repoDir, sim.kubeconfig, NS, 'bench-2')),
  );
  if (!opt['skip-cli']) {
    log('CLI: repo init (not timed), then `kubectl-backup create` into its own repository');
    await cli(sim.kubeconfig, 'repo', 'init');
    const r = await serving(sim, () =>
      cli(sim.kubeconfig, 'create', 'bench-cli', '-n', NS, '--json'),
    );
    s.cli = { ...r, result: JSON.parse(r.stdout) };
  }
  const restoreOpts = [
    given('restore-qps') && `qps ${opt['restore-qps']}`,
    given('restore-concurrency') && `concurrency ${opt['restore-concurrency']}`,
  ].filter(Boolean);
  log(
    `library: restore into namespace ${RESTORE_NS} (${restoreOpts.length ? restoreOpts.join(', ') : 'defaults'}; it waits for the Deployments to be ready; load ${load()})`,
  );
  s.restore = await serving(sim, () =>
    step('restore', 'restore', repoDir, sim.kubeconfig, 'bench-1', RESTORE_NS),
  );
  const restored = await countKinds(client, RESTORE_NS);
  const missing = Object.entries(mix).filter(([k, n]) => restored[k] !== n);
  if (missing.length)
    throw new Error(
      `the restored namespace is incomplete: ${missing.map(([k, n]) => `${k} ${restored[k]}/${n}`).join(', ')}`,
    );
  log(`restored namespace holds all ${COUNT} seeded objects; load average now ${load()}`);
  client.close();
  const figures = summarize(s);
  printTable(figures);
  console.log(JSON.stringify(figures));
} catch (err) {
  console.error(`\nBENCH FAILED: ${err.message}\n(work dir kept for inspection: ${work})`);
  await sim.stop();
  process.exit(1);
}
await sim.stop();
if (!opt.keep) {
  await Promise.all(parts.map((p) => rm(join(work, p), { recursive: true, force: true })));
  if (made) await rmdir(work).catch(() => {});
} else log(`kept ${work}`);

function summarize(s) {
  const rate = (n, sec) => Math.round(n / sec);
  const b1 = s.first.result;
  const b2 = s.second.result;
  const rs = s.restore.result;
  const restoredObjects = rs.counts.created + rs.counts.updated;
  const f = {
    count: COUNT,
    mix,
    replicas: REPLICAS,
    loadAverage: {
      start: loadAtStart.map((l) => Number(l.toFixed(2))),
      end: loadavg().map((l) => Number(l.toFixed(2))),
    },
    backup: {
      objects: b1.objects,
      seconds: b1.seconds,
      objectsPerSecond: rate(b1.objects, b1.seconds),
      processSeconds: s.first.seconds,
      cpuSeconds: s.first.cpuSeconds,
      serverCpuSeconds: s.first.serverCpuSeconds,
      peakRssBytes: s.first.rssBytes,
      repoBytesAdded: s.first.growth,
      storedBytesAdded: b1.storedBytesAdded,
      phases: b1.phases,
    },
    rebackup: {
      objects: b2.objects,
      seconds: b2.seconds,
      processSeconds: s.second.seconds,
      serverCpuSeconds: s.second.serverCpuSeconds,
      peakRssBytes: s.second.rssBytes,
      repoBytesAdded: s.second.growth,
      storedBytesAdded: b2.storedBytesAdded,
      repoPctOfFirst: (100 * s.second.growth) / s.first.growth,
      storedPctOfFirst: (100 * b2.storedBytesAdded) / b1.storedBytesAdded,
    },
    cli: s.cli
      ? {
          objects: s.cli.result.resources,
          seconds: s.cli.seconds,
          objectsPerSecond: rate(s.cli.result.resources, s.cli.seconds),
          peakRssBytes: s.cli.rssBytes,
          cpuSeconds: s.cli.cpuSeconds,
          serverCpuSeconds: s.cli.serverCpuSeconds,
        }
      : null,
    restore: {
      objects: restoredObjects,
      qps: given('restore-qps') ? Number(opt['restore-qps']) : 'default',
      concurrency: given('restore-concurrency') ? Number(opt['restore-concurrency']) : 'default',
      counts: rs.counts,
      outcome: rs.outcome,
      waitedForReadiness: rs.waited,
      notReady: rs.notReady,
      seconds: rs.seconds,
      objectsPerSecond: rate(restoredObjects, rs.seconds),
      processSeconds: s.restore.seconds,
      cpuSeconds: s.restore.cpuSeconds,
      serverCpuSeconds: s.restore.serverCpuSeconds,
      peakRssBytes: s.restore.rssBytes,
      phases: rs.phases,
    },
  };
  f.targets = {
    backup: {
      target: `< ${TARGETS.backupSeconds} s`,
      met:
        f.backup.seconds < TARGETS.backupSeconds &&
        (!f.cli || f.cli.seconds < TARGETS.backupSeconds),
    },
    restore: {
      target: `< ${TARGETS.restoreSeconds} s`,
      met: f.restore.seconds < TARGETS.restoreSeconds,
    },
    rebackup: {
      target: `< ${TARGETS.rebackupStoredPct} % of the first`,
      met: f.rebackup.repoPctOfFirst < TARGETS.rebackupStoredPct,
    },
  };
  return f;
}

function printTable(f) {
  const sec = (x) => (x == null ? 'n/a' : `${x.toFixed(2)} s`);
  const mib = (x) => (x == null ? 'n/a' : `${(x / MiB).toFixed(1)} MiB`);
  const kib = (x) => (x == null ? 'n/a' : `${(x / 1024).toFixed(1)} KiB`);
  const met = (ok) => (ok ? 'met' : 'NOT MET');
  const phases = (p) =>
    Object.entries(p)
      .filter(([, v]) => v >= 0.05)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
  const rows = [
    ['step', 'figure', 'target', ''],
    [
      'initial backup (library)',
      `${sec(f.backup.seconds)}, ${f.backup.objects} objects, ${f.backup.objectsPerSecond} objects/s`,
      `< ${TARGETS.backupSeconds} s`,
      met(f.backup.seconds < TARGETS.backupSeconds),
    ],
    ['  phases (s)', phases(f.backup.phases), '', ''],
    [
      '  process',
      `${sec(f.backup.processSeconds)} wall, ${sec(f.backup.cpuSeconds)} CPU (kube-sim ${sec(f.backup.serverCpuSeconds)}), peak RSS ${mib(f.backup.peakRssBytes)}`,
      '',
      '',
    ],
    [
      '  repository growth',
      `${kib(f.backup.repoBytesAdded)} (packs ${kib(f.backup.storedBytesAdded)})`,
      '',
      '',
    ],
  ];
  if (f.cli) {
    rows.push([
      'initial backup (CLI create)',
      `${sec(f.cli.seconds)} end to end, ${f.cli.objects} objects, ${f.cli.objectsPerSecond} objects/s`,
      `< ${TARGETS.backupSeconds} s`,
      met(f.cli.seconds < TARGETS.backupSeconds),
    ]);
    rows.push([
      '  process',
      `${sec(f.cli.cpuSeconds)} CPU (kube-sim ${sec(f.cli.serverCpuSeconds)}), peak RSS ${mib(f.cli.peakRssBytes)}`,
      '',
      '',
    ]);
  }
  rows.push(
    [
      'unchanged re-backup',
      `${sec(f.rebackup.seconds)} (process ${sec(f.rebackup.processSeconds)}, peak RSS ${mib(f.rebackup.peakRssBytes)})`,
      '',
      '',
    ],
    [
      '  repository growth',
      `${kib(f.rebackup.repoBytesAdded)} = ${f.rebackup.repoPctOfFirst.toFixed(2)} % of the first (packs ${kib(f.rebackup.storedBytesAdded)} = ${f.rebackup.storedPctOfFirst.toFixed(2)} %)`,
      `< ${TARGETS.rebackupStoredPct} %`,
      met(f.targets.rebackup.met),
    ],
    [
      'restore (library)',
      `${sec(f.restore.seconds)}, ${f.restore.objects} objects, ${f.restore.objectsPerSecond} objects/s, ${f.restore.outcome}`,
      `< ${TARGETS.restoreSeconds} s`,
      met(f.targets.restore.met),
    ],
    ['  phases (s)', phases(f.restore.phases), '', ''],
    [
      '  process',
      `${sec(f.restore.processSeconds)} wall, ${sec(f.restore.cpuSeconds)} CPU (kube-sim ${sec(f.restore.serverCpuSeconds)}), peak RSS ${mib(f.restore.peakRssBytes)}`,
      '',
      '',
    ],
  );
  printColumns(rows);
  console.log(
    'Library times are the backupNamespace/restoreNamespace call alone (after the repository is open: scrypt',
  );
  console.log(
    `key derivation and Node start-up are in "process" wall time).${f.cli ? ' The CLI time is the whole' : ''}`,
  );
  console.log(
    `${f.cli ? '`kubectl-backup create` process. ' : ''}The restore uses ${given('restore-qps') || given('restore-concurrency') ? 'the given qps/concurrency' : 'the defaults'}: it ${f.restore.waitedForReadiness ? 'waits' : 'does not wait'} for the Deployments to be ready ("wait" phase),`,
  );
  console.log(
    `${f.restore.notReady} not ready at the end. Repository growth = bytes of files added under the repository directory`,
  );
  console.log("(packs, index, snapshot, audit entry); packs = the snapshot's storedBytesAdded.");
}
