/**
 * Test helpers: run the BUILT executable in a child process, through the installed entry
 * (`bin/kubectl-backup.js`, which loads `dist/bin.js`), with a temporary HOME and a controlled
 * environment, or the program in-process with in-memory streams.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runCli } from '../cli.js';
import type { CliIO } from '../io.js';

export const BIN = fileURLToPath(new URL('../../bin/kubectl-backup.js', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  env: Record<string, string>;
  /** Runs `kubectl-backup args…` in the sandbox directory. */
  run(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  cleanup(): Promise<void>;
}

/** A temp directory used as HOME and working directory; cheap scrypt; no inherited secrets. */
export async function sandbox(): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kb-cli-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KUBECTL_BACKUP_TEST_SCRYPT: 'fast',
  };
  return {
    dir,
    env,
    run: (args, extra = {}) => runBin(args, { ...env, ...extra }, dir),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export function runBin(
  args: string[],
  env: Record<string, string | undefined>,
  cwd: string,
  script = BIN,
): Promise<RunResult> {
  const clean = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd,
      env: clean,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the program in-process; `prompt` answers secret prompts in order. */
export async function runInProcess(
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    cwd: string;
    prompt?: string[];
    signal?: AbortSignal;
    /** Pretend stderr is a terminal (live progress line). */
    tty?: boolean;
  },
): Promise<RunResult & { questions: string[] }> {
  const stdout = collector();
  const stderr = collector({ isTTY: options.tty, columns: 80 });
  const questions: string[] = [];
  const answers = [...(options.prompt ?? [])];
  const io: CliIO = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd,
    signal: options.signal,
    ...(options.prompt
      ? { promptSecret: async (q: string) => (questions.push(q), answers.shift() ?? '') }
      : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text, questions };
}

function collector(extra: { isTTY?: boolean; columns?: number } = {}) {
  const c = { ...extra, text: '', write: (s: string) => ((c.text += s), true) };
  return c;
}

/** A small tree: text, random binary, an empty file, a nested directory. */
export async function writeSampleTree(root: string, seed = 1): Promise<void> {
  await mkdir(path.join(root, 'nested', 'deeper'), { recursive: true });
  await writeFile(path.join(root, 'notes.txt'), 'line of text\n'.repeat(5000));
  await writeFile(path.join(root, 'empty'), '');
  let x = seed;
  const bin = Buffer.alloc(700_000);
  for (let i = 0; i < bin.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bin[i] = x >>> 24;
  }
  await writeFile(path.join(root, 'nested', 'data.bin'), bin);
  await writeFile(
    path.join(root, 'nested', 'deeper', 'ünïcode name.json'),
    JSON.stringify({ seed }),
  );
}

export { readTreeBytes as readTree } from '../tree-compare.js';

/** Parses the JSON document on stdout (after any `-o json` / `--json` command). */
export function json<T = unknown>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
