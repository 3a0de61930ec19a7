#!/usr/bin/env node
// One engine operation in its own process, so the bench can time it and read its peak RSS:
//   node run-step.mjs init REPO | backup REPO DIR | restore REPO TARGET
// For A/B runs: BENCH_DIRECT=0 writes through the page cache only (the directWrites options of
// LocalStorage and restore false), BENCH_WORKERS=N sets a restore's worker threads.
// Prints one JSON line: the step's own result plus `seconds` (inside the process, after start-up)
// and `cpuSeconds` / `maxRssBytes` (this process, worker threads included).
import { prestartWorkers } from '../dist/prestart.js';

const [step, repoDir, path] = process.argv.slice(2);
// As the CLI's data commands do: the worker threads boot while the engine loads.
if (step === 'backup' || step === 'restore') prestartWorkers();
const { LocalStorage, Repository, backup, restoreDirectory, startBackupScan } =
  await import('../dist/index.js');

const PASSWORD = 'bench-password';
const direct = process.env.BENCH_DIRECT !== '0';
const storage = new LocalStorage(repoDir, { directWrites: direct });
const started = process.hrtime.bigint();
let result;
if (step === 'init') {
  const repo = await Repository.init(storage, PASSWORD);
  await repo.close();
  result = { id: repo.id };
} else if (step === 'backup' || step === 'restore') {
  // As the CLI's data commands do: worker threads start, and a backup's progress scan runs, while
  // the password is checked.
  const scan = step === 'backup' ? startBackupScan(path) : undefined;
  const repo = await Repository.open(storage, PASSWORD, { prestartWorkers: true });
  if (step === 'backup') result = (await backup(repo, { directory: path }, { scan })).stats;
  else
    result = await restoreDirectory(repo, 'latest', path, {
      directWrites: direct,
      workers: process.env.BENCH_WORKERS ? Number(process.env.BENCH_WORKERS) : undefined,
    });
  await repo.close();
} else {
  console.error('usage: node run-step.mjs init REPO | backup REPO DIR | restore REPO TARGET');
  process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const usage = process.resourceUsage();
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
console.log(
  JSON.stringify({ step, ...result, seconds, cpuSeconds, maxRssBytes: usage.maxRSS * 1024 }),
);
