// Helpers of the benchmarks. timedRun runs a command: wall time, stdout, and (through /usr/bin/time when present)
// peak RSS and CPU seconds of the process and its threads. Shared by the engine and namespace
// benchmarks.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/**
 * Resolves with `{ seconds, stdout, rssBytes, cpuSeconds, sysSeconds }` (the last three null without
 * /usr/bin/time); rejects with the end of stderr when the command fails. `scratchDir` holds
 * time's output file.
 */
export async function timedRun(cmd, args, { env = process.env, scratchDir }) {
  const rssFile = join(scratchDir, '.rss');
  const argv = TIME ? [TIME, '-f', '%M %U %S', '-o', rssFile, cmd, ...args] : [cmd, ...args];
  const started = process.hrtime.bigint();
  const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const code = await new Promise((res, rej) => child.on('error', rej).on('close', res));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${stderr}`);
  if (!TIME) return { seconds, stdout, rssBytes: null, cpuSeconds: null, sysSeconds: null };
  const [kib, user, sys] = (await readFile(rssFile, 'utf8'))
    .trim()
    .split('\n')
    .pop()
    .split(' ')
    .map(Number);
  return { seconds, stdout, rssBytes: kib * 1024, cpuSeconds: user + sys, sysSeconds: sys };
}

export const hasTime = TIME !== undefined;

/** Prints rows of strings as aligned columns, between blank lines. */
export function printColumns(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  console.log('');
  for (const row of rows)
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  console.log('');
}
