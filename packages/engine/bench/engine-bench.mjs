#!/usr/bin/env node
// Engine benchmark, side by side with restic (not a test; it prints figures, asserts none):
//   node packages/engine/bench/engine-bench.mjs [--size MiB] [--dir DIR] [--keep]
//        [--mutate PCT] [--seed N] [--repeat N] [--skip-restic] [--cpu-prof DIR]
// Measures an initial backup, an incremental one after `mkdata --mutate PCT`, the bytes that
// incremental added to the repository, a restore (checked byte for byte against the source) and
// peak RSS. The initial backup (into fresh repositories) and the restore run `--repeat` times
// (default 3), ours and restic's in turn, and the run with the median time counts: on a shared
// machine one run can be off by half. Nothing is deleted before the end, so the work dir needs
// about (4 × repeat + 1) × the data set size of free space. Our steps run in child processes
// (run-step.mjs) on the built engine (dist/). The last line of output is one JSON object with the
// figures.
// The file system's recent past counts: on ext4 without a journal (this project's development VM)
// every file created within minutes of deleting many others (e.g. a previous run's clean-up) is
// searched past the freed inodes one by one, which slows both tools' restores by a varying
// amount. Run it a few minutes after such deletions, or give `--dir` on a freshly made file system.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, rm, rmdir } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { hasTime, printColumns, timedRun } from './timed-run.mjs';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const { values: opt } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    mutate: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '3' },
    'skip-restic': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const MiB = 1 << 20;
const REPEAT = Math.max(1, Math.floor(Number(opt.repeat)) || 1);

/** The run with the median wall time (the lower one of an even count), the peak RSS of all. */
function median(runs) {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const rss = runs.map((x) => x.rssBytes);
  return {
    ...sorted[(sorted.length - 1) >> 1],
    rssBytes: rss.includes(null) ? null : Math.max(...rss),
    all: runs.map((x) => x.seconds),
  };
}

/** Runs a command (see timed-run.mjs). */
const run = (cmd, args, env = process.env) => timedRun(cmd, args, { env, scratchDir: work });

const sh = (script) => run('sh', ['-c', script]);
/** Reads the data set once so both tools start from the same (warm) page cache. */
const warm = () => sh(`find '${data}' -type f -print0 | xargs -0 cat > /dev/null; sync`);

async function ours(step, ...args) {
  const prof = opt['cpu-prof']
    ? ['--cpu-prof', '--cpu-prof-dir', resolve(opt['cpu-prof'], step)]
    : [];
  const r = await run(process.execPath, [...prof, here('run-step.mjs'), step, oursRepo, ...args]);
  const result = JSON.parse(r.stdout.trim().split('\n').pop());
  return {
    ...r,
    result,
    rssBytes: r.rssBytes ?? result.maxRssBytes,
    cpuSeconds: r.cpuSeconds ?? result.cpuSeconds,
  };
}

const resticEnv = () => ({
  ...process.env,
  RESTIC_REPOSITORY: resticRepo,
  RESTIC_PASSWORD: 'bench-password',
  RESTIC_CACHE_DIR: join(work, 'restic-cache'),
});
const restic = (...args) => run('restic', args, resticEnv());

/** restic's `backup --json` summary line. */
function resticSummary(stdout) {
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return lines.find((l) => l.message_type === 'summary') ?? {};
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

/** Throws unless both trees hold the same names, types and file bytes. */
async function compareTrees(a, b, rel = '') {
  const [la, lb] = await Promise.all([a, b].map(async (d) => (await readdir(join(d, rel))).sort()));
  if (la.join('/') !== lb.join('/'))
    throw new Error(`restored tree differs in ${rel || '.'}: [${la}] vs [${lb}]`);
  for (const name of la) {
    const p = join(rel, name);
    const [sa, sb] = await Promise.all([lstat(join(a, p)), lstat(join(b, p))]);
    if (sa.isDirectory() !== sb.isDirectory()) throw new Error(`restored ${p}: type differs`);
    if (sa.isDirectory()) await compareTrees(a, b, p);
    else if (sa.size !== sb.size || !(await sameBytes(join(a, p), join(b, p))))
      throw new Error(`restored ${p}: bytes differ`);
  }
}

async function sameBytes(fa, fb) {
  const [ha, hb] = await Promise.all([open(fa), open(fb)]);
  try {
    const [ba, bb] = [Buffer.alloc(MiB), Buffer.alloc(MiB)];
    for (;;) {
      const [ra, rb] = await Promise.all([ha.read(ba, 0, MiB, null), hb.read(bb, 0, MiB, null)]);
      if (
        ra.bytesRead !== rb.bytesRead ||
        !ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))
      )
        return false;
      if (ra.bytesRead === 0) return true;
    }
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

/** Times an incremental backup and measures the repository's growth. */
async function incremental(repoDir, backupFn) {
  await warm();
  const before = await treeBytes(repoDir);
  const r = await backupFn();
  return { ...r, growth: (await treeBytes(repoDir)) - before };
}

// ---- the run ----

const size = Number(opt.size);
const made = !opt.dir || !existsSync(opt.dir);
const work = opt.dir ? resolve(opt.dir) : await mkdtemp(join(tmpdir(), 'engine-bench-'));
const data = join(work, 'data');
// Every repeated step writes into a new directory, and nothing is deleted until the end: on a file
// system that discards freed blocks, creating files right after deleting a gigabyte is much slower,
// and by an amount that varies from run to run.
const repoDir = (tool, k) => join(work, 'repos', `${tool}-${k}`);
let oursRepo = repoDir('ours', 1);
let resticRepo = repoDir('restic', 1);
const parts = ['data', 'repos', 'restores', 'restic-cache', '.rss'];
await mkdir(work, { recursive: true });
await Promise.all(parts.map((p) => rm(join(work, p), { recursive: true, force: true })));

let resticVersion = null;
if (!opt['skip-restic']) {
  const v = spawnSync('restic', ['version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) {
    console.log(
      'restic is not on PATH: measuring ours only (install it, e.g. `apt-get install restic`, to compare).',
    );
  } else resticVersion = v.stdout.trim();
}
const log = (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
log(
  `work dir ${work}; ${size} MiB data set, --mutate ${opt.mutate}, seed ${opt.seed}; ${resticVersion ?? 'restic skipped'}`,
);
const git = (...a) => spawnSync('git', a, { cwd: here('.'), encoding: 'utf8' }).stdout?.trim();
const dirty = git('status', '--porcelain', '--', '../src') ? ' + uncommitted changes in src/' : '';
log(
  `engine src at commit ${git('log', '-1', '--format=%h', '--', '../src') || 'unknown'}${dirty} (the bench runs the built dist/)`,
);
log(
  `${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
log(
  `peak RSS and CPU time via ${hasTime ? '/usr/bin/time' : 'process.resourceUsage() of our step runner (restic: n/a)'}`,
);
log(
  'page cache: not dropped; the data set is read once (find | xargs cat) and `sync`ed before each backup, so both sides read from a warm cache',
);

try {
  log('generating the data set (not timed)');
  await run(process.execPath, [here('mkdata.mjs'), data, String(size), opt.seed]);
  const o = {};
  const r = {};

  const initial = { ours: [], restic: [] };
  for (let k = 1; k <= REPEAT; k++) {
    const nth = REPEAT > 1 ? ` (${k}/${REPEAT})` : '';
    // Fresh repositories each time; the last ones are kept for the incremental step.
    [oursRepo, resticRepo] = [repoDir('ours', k), repoDir('restic', k)];
    log(`ours: init + initial backup${nth}`);
    await ours('init');
    await warm();
    initial.ours.push(await ours('backup', data));
    if (resticVersion) {
      log(`restic: init + initial backup${nth}`);
      await restic('init', '--repository-version', '2');
      await warm();
      initial.restic.push(await restic('backup', '--json', data));
    }
  }
  o.initial = median(initial.ours);
  if (resticVersion) r.initial = median(initial.restic);

  log(`mutating ${opt.mutate}% of the data (not timed)`);
  await run(process.execPath, [
    here('mkdata.mjs'),
    data,
    String(size),
    opt.seed,
    '--mutate',
    opt.mutate,
  ]);

  log('ours: incremental backup');
  o.incr = await incremental(oursRepo, () => ours('backup', data));
  if (resticVersion) {
    log('restic: incremental backup');
    r.incr = await incremental(resticRepo, () => restic('backup', '--json', data));
    r.incr.summary = resticSummary(r.incr.stdout);
  }

  const restores = { ours: [], restic: [] };
  for (let k = 1; k <= REPEAT; k++) {
    const nth = REPEAT > 1 ? ` (${k}/${REPEAT})` : '';
    // Every restore is compared: a fast wrong one must not count.
    log(`ours: restore latest + byte comparison${nth}`);
    await sh('sync');
    const target = (tool) => join(work, 'restores', `${tool}-${k}`);
    restores.ours.push(await ours('restore', target('ours')));
    await compareTrees(data, target('ours'));
    if (resticVersion) {
      log(`restic: restore latest + byte comparison${nth}`);
      await sh('sync');
      restores.restic.push(await restic('restore', 'latest', '--target', target('restic')));
      await compareTrees(data, join(target('restic'), data));
    }
  }
  o.restore = median(restores.ours);
  if (resticVersion) r.restore = median(restores.restic);
  log(`${resticVersion ? 'every restore was' : 'the restores were'} byte-identical to the source`);
  log(
    `load average now ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other processes share the CPUs: figures are noisier when it is high)`,
  );

  const figures = (s) => ({
    initialSeconds: s.initial.seconds,
    incrementalSeconds: s.incr.seconds,
    incrementalAddedBytes: s.incr.growth,
    restoreSeconds: s.restore.seconds,
    peakRssBytes: [s.initial, s.incr, s.restore].some((x) => x.rssBytes == null)
      ? null
      : Math.max(s.initial.rssBytes, s.incr.rssBytes, s.restore.rssBytes),
  });
  const res = { ours: figures(o), restic: resticVersion ? figures(r) : null };
  const ratio = (a, b) => (a && b ? Number((a / b).toFixed(3)) : null);
  res.ratios = {
    initialSpeedup: ratio(res.restic?.initialSeconds, res.ours.initialSeconds),
    incrementalBytes: ratio(res.ours.incrementalAddedBytes, res.restic?.incrementalAddedBytes),
    restoreSpeedup: ratio(res.restic?.restoreSeconds, res.ours.restoreSeconds),
  };
  printTable(o, r, res);
  console.log(JSON.stringify(res));
} catch (err) {
  console.error(`\nBENCH FAILED: ${err.message}\n(work dir kept for inspection: ${work})`);
  process.exit(1);
}
if (!opt.keep) {
  await Promise.all(parts.map((p) => rm(join(work, p), { recursive: true, force: true })));
  if (made) await rmdir(work).catch(() => {});
}

function printTable(o, r, res) {
  const s = (x) => (x == null ? 'n/a' : `${x.toFixed(2)} s`);
  const mib = (x) => (x == null ? 'n/a' : `${(x / MiB).toFixed(1)} MiB`);
  const rate = (x) => (x == null ? 'n/a' : `${(size / x).toFixed(1)} MiB/s`);
  const x = (v) => (v == null ? '' : `${v.toFixed(2)}×`);
  const q = (a, b) => (a != null && b ? a / b : null);
  const R = res.restic ?? {};
  // The kernel's share (sys) is shown: page-cache writes into memory the host has not backed
  // yet cost several times the copy itself on some virtual machines.
  const cpu = (run) =>
    run?.cpuSeconds == null
      ? 'n/a'
      : `${s(run.cpuSeconds)}${run.sysSeconds == null ? '' : ` (sys ${run.sysSeconds.toFixed(2)})`}`;
  const cpuRow = (label, a, b) => [label, cpu(a), cpu(b), x(q(b?.cpuSeconds, a.cpuSeconds)), ''];
  const rows = [
    ['step', 'ours', 'restic', 'ratio', 'target'],
    [
      'initial backup',
      s(o.initial.seconds),
      s(r.initial?.seconds),
      x(q(r.initial?.seconds, o.initial.seconds)),
      'speedup ≥ 2×',
    ],
    ['  throughput', rate(o.initial.seconds), rate(r.initial?.seconds), '', ''],
    [
      'incremental backup',
      s(o.incr.seconds),
      s(r.incr?.seconds),
      x(q(r.incr?.seconds, o.incr.seconds)),
      '',
    ],
    [
      '  repo growth',
      mib(o.incr.growth),
      mib(R.incrementalAddedBytes),
      x(res.ratios.incrementalBytes),
      'ours/restic ≤ 0.4×',
    ],
    [
      '  reported added',
      mib(o.incr.result.storedBytesAdded),
      mib(r.incr?.summary.data_added_packed ?? r.incr?.summary.data_added),
      '',
      '',
    ],
    [
      'restore',
      s(o.restore.seconds),
      s(r.restore?.seconds),
      x(q(r.restore?.seconds, o.restore.seconds)),
      'speedup ≥ 1.5×',
    ],
    cpuRow('CPU initial', o.initial, r.initial),
    cpuRow('CPU incremental', o.incr, r.incr),
    cpuRow('CPU restore', o.restore, r.restore),
    ['peak RSS initial', mib(o.initial.rssBytes), mib(r.initial?.rssBytes), '', ''],
    ['peak RSS incremental', mib(o.incr.rssBytes), mib(r.incr?.rssBytes), '', ''],
    ['peak RSS restore', mib(o.restore.rssBytes), mib(r.restore?.rssBytes), '', ''],
    [
      'peak RSS (max)',
      mib(res.ours.peakRssBytes),
      mib(R.peakRssBytes),
      x(q(res.ours.peakRssBytes, R.peakRssBytes)),
      'ours ≤ 256 MB',
    ],
  ];
  printColumns(rows);
  console.log(
    'Times are whole-process wall times (start-up and key derivation included); CPU = user + sys seconds of the',
  );
  console.log(
    'process, all threads (steadier than wall time when other work shares the machine). Time ratios are restic/ours.',
  );
  if (REPEAT > 1) {
    const all = (x) => (x ? x.all.map((v) => v.toFixed(2)).join(', ') : 'n/a');
    console.log(
      `Initial backup and restore: the median of ${REPEAT} runs each (CPU of that run; peak RSS of all). All runs, seconds:`,
    );
    console.log(`  initial: ours ${all(o.initial)}; restic ${all(r.initial)}`);
    console.log(`  restore: ours ${all(o.restore)}; restic ${all(r.restore)}`);
  }
  console.log(
    `Ours in-process: initial ${s(o.initial.result.seconds)}, incremental ${s(o.incr.result.seconds)}, restore ${s(o.restore.result.seconds)}.`,
  );
  console.log(
    'Repo growth = bytes of the files added under the repository directory by the incremental backup (packs, index, snapshot).',
  );
  const field =
    r.incr?.summary.data_added_packed != null
      ? 'data_added_packed'
      : 'data_added (before compression in restic < 0.17)';
  console.log(
    `Reported added: ours snapshot.stats.storedBytesAdded (packs only)${r.incr ? `; restic summary ${field}` : ''}.`,
  );
}
