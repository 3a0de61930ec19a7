/**
 * `npm run demo`: the main job on embedded defaults, printing each step. Creates a sample
 * directory under `.tmp/demo/` in the repository root, a local repository next to it (password
 * `demo`, for this demo only), backs the directory up twice (the second adds ~nothing), lists
 * the snapshots, restores the latest and compares every byte. Starts from scratch each run
 * (everything in the demo directory is deleted first).
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli.js';
import { processIO, type CliIO } from './io.js';
import { formatBytes } from './output/format.js';
import { readTreeBytes } from './tree-compare.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** `.tmp/demo` in the repository root; KUBECTL_BACKUP_DEMO_DIR moves it (the demo's own test). */
const DEMO = path.resolve(process.env.KUBECTL_BACKUP_DEMO_DIR || path.join(ROOT, '.tmp', 'demo'));
const DATA = path.join(DEMO, 'data');
const REPO = path.join(DEMO, 'repository');
const RESTORED = path.join(DEMO, 'restored');
const PASSWORD = 'demo';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Runs `kubectl backup …` in-process, echoing the command; returns stdout; throws on failure. */
async function kubectlBackup(args: string[], echo = true): Promise<string> {
  say(`\n$ kubectl backup ${args.join(' ')}`);
  let captured = '';
  let errors = '';
  const io: CliIO = {
    ...processIO(),
    env: { ...process.env, KUBECTL_BACKUP_REPOSITORY: REPO, KUBECTL_BACKUP_PASSWORD: PASSWORD },
    cwd: DEMO,
    stdout: { write: (s: string) => ((captured += s), echo && process.stdout.write(s)) },
    // Quiet runs (--json) keep their progress lines to themselves unless they fail.
    ...(echo ? {} : { stderr: { write: (s: string) => (errors += s) } }),
  };
  const code = await runCli(args, io);
  if (code !== 0)
    throw new Error(`kubectl backup ${args.join(' ')} failed with exit code ${code}\n${errors}`);
  return captured;
}

async function writeSampleData(): Promise<void> {
  await mkdir(path.join(DATA, 'config'), { recursive: true });
  await mkdir(path.join(DATA, 'blobs'), { recursive: true });
  const log = Array.from(
    { length: 20_000 },
    (_, i) =>
      `2026-11-21T12:00:${String(i % 60).padStart(2, '0')}Z INFO request ${i} served in ${i % 97} ms`,
  ).join('\n');
  await writeFile(path.join(DATA, 'app.log'), log);
  await writeFile(
    path.join(DATA, 'config', 'settings.json'),
    JSON.stringify({ replicas: 3, image: 'web:1.4.2' }, null, 2),
  );
  await writeFile(path.join(DATA, 'README.txt'), 'Sample data for the kubectl backup demo.\n');
  // Incompressible but reproducible: SHA-256 in counter mode.
  const blocks = Array.from({ length: (3 << 20) / 32 }, (_, i) =>
    createHash('sha256').update(`demo-${i}`).digest(),
  );
  await writeFile(path.join(DATA, 'blobs', 'random.bin'), Buffer.concat(blocks));
}

async function main(): Promise<void> {
  say(`kubectl backup demo — working in ${DEMO}`);
  say(`repository password: "${PASSWORD}" (a demo-only default: use a real secret for real data)`);
  await rm(DEMO, { recursive: true, force: true });
  await writeSampleData();
  say(`wrote sample data to ${DATA}: a log file, JSON, text and 3 MiB of random bytes`);

  await kubectlBackup(['repo', 'init']);
  const stats = [];
  for (const run of ['first', 'second']) {
    const out = await kubectlBackup(['mover', 'backup', 'data', '--tag', 'demo', '--json'], false);
    const s = JSON.parse(out) as {
      shortId: string;
      bytesTotal: number;
      bytesAdded: number;
      storedBytesAdded: number;
    };
    stats.push(s);
    say(
      `${run} backup: snapshot ${s.shortId}, ${formatBytes(s.bytesTotal)} backed up, ${formatBytes(s.bytesAdded)} new (${formatBytes(s.storedBytesAdded)} stored after compression)`,
    );
  }
  say(
    `→ the second backup of unchanged data added ${formatBytes(stats[1]!.bytesAdded)}: deduplicated`,
  );

  await kubectlBackup(['repo', 'snapshots']);
  await kubectlBackup(['mover', 'restore', 'latest', 'restored']);
  const [before, after] = await Promise.all([readTreeBytes(DATA), readTreeBytes(RESTORED)]);
  const same =
    before.size === after.size &&
    [...before].every(([name, bytes]) => after.get(name)?.equals(bytes));
  if (!same) throw new Error('the restored files differ from the originals');
  const total = [...before.values()].reduce((n, b) => n + b.length, 0);
  say(`compared ${before.size} files, ${formatBytes(total)}: the restore is byte-identical`);

  await kubectlBackup(['repo', 'check', '--read-data']);
  await kubectlBackup(['repo', 'audit']);
  say(
    `\ndone. Try: KUBECTL_BACKUP_REPOSITORY=${path.relative(process.cwd(), REPO) || REPO} KUBECTL_BACKUP_PASSWORD=${PASSWORD} npx kubectl-backup repo snapshots`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
