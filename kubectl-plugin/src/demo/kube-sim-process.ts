/**
 * kube-sim as a separate process (`kube-sim serve`), owned by the demo: it runs in its own
 * process group, so a Ctrl-C in the terminal reaches the demo only and the demo stops kube-sim
 * with exactly one SIGTERM (kube-sim then flushes its state and exits 0). When the demo exits
 * any other way (an error, a second Ctrl-C) the SIGTERM is sent on the way out; a kube-sim left
 * by a demo killed with SIGKILL is found through its pid file and stopped by the next run.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DemoPaths } from './paths.js';

export interface KubeSimProcess {
  pid: number;
  /** https://127.0.0.1:PORT */
  url: string;
  /** Resolves with the exit code (null: killed by a signal) when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM (once) and wait for the exit; SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const READY = /^kube-sim ready on (https:\/\/\S+)/m;

/** The `kube-sim` command of the @kubectl-backup/kube-sim package. */
function kubeSimBin(): string {
  const main = fileURLToPath(import.meta.resolve('@kubectl-backup/kube-sim'));
  return path.join(path.dirname(main), '..', 'bin', 'kube-sim.js');
}

async function tail(file: string, lines = 8): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Starts `kube-sim serve --seed …` and resolves once it printed its ready line. */
export async function startKubeSim(paths: DemoPaths, signal: AbortSignal): Promise<KubeSimProcess> {
  const log = createWriteStream(paths.simLog, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      kubeSimBin(),
      'serve',
      '--port',
      '0',
      '--data',
      paths.cluster,
      '--kubeconfig-out',
      paths.kubeconfig,
      '--seed',
      paths.seed,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => ((output += d.toString()), log.write(d)));
  child.stderr!.on('data', (d: Buffer) => log.write(d));
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.on('error', () => resolve(null));
  });
  void exited.then(() => log.end());
  const sim = ownProcess(child, exited, paths);
  // kube-sim's pid, then the demo's
  await writeFile(paths.simPid, `${child.pid} ${process.pid}\n`);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = READY.exec(output);
        if (m) resolve(m[1]!);
      };
      child.stdout!.on('data', check);
      void exited.then(async (code) =>
        reject(
          new Error(
            `kube-sim exited (code ${code}) before it was ready:\n${await tail(paths.simLog)}`,
          ),
        ),
      );
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    return { ...sim, url };
  } catch (err) {
    await sim.stop();
    throw err;
  }
}

function ownProcess(
  child: ChildProcess,
  exited: Promise<number | null>,
  paths: DemoPaths,
): Omit<KubeSimProcess, 'url'> {
  let done = false;
  let terminated = false;
  const terminate = () => {
    if (terminated || done) return;
    terminated = true;
    child.kill('SIGTERM');
  };
  // the demo ends (error, process.exit on a second Ctrl-C): kube-sim stops on its own
  process.on('exit', terminate);
  void exited.then(() => {
    done = true;
    process.off('exit', terminate);
    return rm(paths.simPid, { force: true });
  });
  return {
    pid: child.pid!,
    exited,
    stop: async (timeoutMs = 15_000) => {
      terminate();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function commandLine(pid: number): Promise<string> {
  return new Promise((resolve) =>
    execFile('ps', ['-o', 'command=', '-p', String(pid)], (err, stdout) =>
      resolve(err ? '' : String(stdout)),
    ),
  );
}

/**
 * Stops the kube-sim of an earlier demo that was killed before it could stop it (its pid file
 * is still there and the process with that id is that kube-sim); returns its pid, if any.
 * Refuses when that demo still runs: its directory is about to be deleted.
 */
export async function stopLeftoverKubeSim(paths: DemoPaths): Promise<number | undefined> {
  const text = await readFile(paths.simPid, 'utf8').catch(() => '');
  const [pid, demo] = text.trim().split(/\s+/).map(Number);
  if (!pid || !Number.isInteger(pid) || pid <= 0) return undefined;
  if (demo && demo !== process.pid && (await commandLine(demo)).includes('demo'))
    throw new Error(
      `another demo (pid ${demo}) runs in ${paths.dir}: stop it first (Ctrl-C in its terminal)`,
    );
  if (!(await commandLine(pid)).includes(paths.cluster)) return undefined;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 150; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (!(await commandLine(pid)).includes(paths.cluster)) return pid;
  }
  process.kill(pid, 'SIGKILL');
  return pid;
}
