/**
 * The demo's steps: kube-sim seeded with real apps, data in their volumes, a repository, then
 * the real `kubectl backup` commands (create, list, restore into another namespace, describe),
 * a comparison of the two namespaces, and the lines to go on by hand while the cluster stays
 * up until Ctrl-C. A failing step is named, kube-sim is stopped, and the exit code is 1 (130
 * when interrupted).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { connect, type Connection } from '@kubectl-backup/k8s';
import { EXIT_INTERRUPTED } from '../io.js';
import { APPS, NAMESPACE, waitAppsReady, writeSeed, writeVolumeData } from './apps.js';
import { compareNamespaces } from './compare.js';
import { printHints } from './hints.js';
import { Interrupts } from './interrupts.js';
import { startKubeSim, stopLeftoverKubeSim, type KubeSimProcess } from './kube-sim-process.js';
import { kubectlBackup, type CommandContext } from './kubectl-backup.js';
import { DEMO_PASSWORD, demoPaths, type DemoPaths } from './paths.js';
import { say } from './say.js';

export interface DemoOptions {
  /** Keep the cluster up until Ctrl-C/SIGTERM (false: stop it and exit after printing). */
  wait: boolean;
}

const BACKUP = `${NAMESPACE}-demo`;
const TARGET = `${NAMESPACE}-restored`;

const shown = (p: string) => path.relative(process.cwd(), p) || p;

interface State {
  sim?: KubeSimProcess;
  conn?: Connection;
}

type Step = [title: string, run: () => Promise<unknown>];

function steps(paths: DemoPaths, state: State, ctx: CommandContext): Step[] {
  const { signal } = ctx;
  const conn = () => state.conn!;
  return [
    [
      `prepare ${shown(paths.dir)}`,
      async () => {
        const left = await stopLeftoverKubeSim(paths);
        if (left) say(`stopped kube-sim (pid ${left}) left running by an earlier demo`);
        await rm(paths.dir, { recursive: true, force: true });
        await mkdir(paths.dir, { recursive: true });
        const objects = await writeSeed(paths);
        say(
          `${objects} objects of ${APPS.map((a) => `test/fixtures/apps/${a}`).join(' and ')} (sources and licences: test/fixtures/SOURCES.md) in ${shown(paths.seed)}, namespace ${NAMESPACE}`,
        );
      },
    ],
    [
      `start kube-sim with ${APPS.join(' and ')} in namespace ${NAMESPACE}`,
      async () => {
        say(
          `$ kube-sim serve --port 0 --data ${shown(paths.cluster)} --kubeconfig-out ${shown(paths.kubeconfig)} --seed ${shown(paths.seed)}`,
        );
        state.sim = await startKubeSim(paths, signal);
        say(`kube-sim (pid ${state.sim.pid}) ready on ${state.sim.url}`);
        state.conn = connect({ kubeconfig: paths.kubeconfig });
      },
    ],
    ['wait for the apps to be ready', () => waitAppsReady(conn().client, signal)],
    ['write data into the MySQL volumes (PVCs)', () => writeVolumeData(conn().kc, signal)],
    ['create the repository', () => kubectlBackup(['repo', 'init'], ctx)],
    [
      `back up namespace ${NAMESPACE}`,
      () => kubectlBackup(['create', BACKUP, '-n', NAMESPACE], ctx),
    ],
    ['list the backups', () => kubectlBackup(['list', '-A'], ctx)],
    [
      `restore the backup into namespace ${TARGET}`,
      () => kubectlBackup(['restore', BACKUP, '--target-namespace', TARGET], ctx),
    ],
    ['describe the backup', () => kubectlBackup(['describe', BACKUP], ctx)],
    [
      `compare namespace ${TARGET} with ${NAMESPACE}`,
      async () => {
        if (!(await compareNamespaces(conn(), NAMESPACE, TARGET, signal)))
          throw new Error(`namespace ${TARGET} differs from ${NAMESPACE} (see above)`);
        say(`result: the restored namespace ${TARGET} matches ${NAMESPACE}`);
      },
    ],
  ];
}

/** Resolves to the exit code: 0, 1 (a step failed) or 130 (interrupted). */
export async function runDemo(options: DemoOptions): Promise<number> {
  const paths = demoPaths(process.env);
  const interrupts = new Interrupts();
  const state: State = {};
  const ctx: CommandContext = {
    env: {
      ...process.env,
      KUBECONFIG: paths.kubeconfig,
      KUBECTL_BACKUP_REPOSITORY: paths.repository,
      KUBECTL_BACKUP_PASSWORD: DEMO_PASSWORD,
    },
    cwd: paths.dir,
    signal: interrupts.signal,
  };
  say(`kubectl backup demo — working in ${paths.dir} (started from scratch on each run)`);
  say(
    `repository password: "${DEMO_PASSWORD}" (a demo-only default: use a real secret for real data)`,
  );
  say(
    `the kubectl backup commands below run with KUBECONFIG, KUBECTL_BACKUP_REPOSITORY and KUBECTL_BACKUP_PASSWORD set as printed at the end`,
  );
  const all = steps(paths, state, ctx);
  let current = '';
  try {
    for (const [i, [title, run]] of all.entries()) {
      current = `step ${i + 1}/${all.length} "${title}"`;
      say(`\n[${i + 1}/${all.length}] ${title}`);
      await run();
    }
    current = '';
    printHints(paths, options);
    return await keepUp(state.sim!, interrupts, options, paths);
  } catch (err) {
    if (interrupts.signal.aborted) {
      process.stderr.write(`demo interrupted${current ? ` during ${current}` : ''}\n`);
      return EXIT_INTERRUPTED;
    }
    process.stderr.write(
      `demo failed${current ? ` at ${current}` : ''}: ${(err as Error).message}\n`,
    );
    if (state.sim) process.stderr.write(`kube-sim's output: ${paths.simLog}\n`);
    return 1;
  } finally {
    state.conn?.client.close();
    if (state.sim) {
      await state.sim.stop();
      say('kube-sim stopped');
    }
    interrupts.dispose();
  }
}

/** Waits for Ctrl-C/SIGTERM (unless told not to); kube-sim dying on its own is a failure. */
async function keepUp(
  sim: KubeSimProcess,
  interrupts: Interrupts,
  options: DemoOptions,
  paths: DemoPaths,
): Promise<number> {
  if (!options.wait) {
    say('--no-wait: stopping the cluster now');
    return 0;
  }
  say('Press Ctrl-C to stop the cluster.');
  const ended = await Promise.race([
    interrupts.wait().then((s) => ({ signal: s })),
    sim.exited.then((code) => ({ code })),
  ]);
  if ('code' in ended) {
    process.stderr.write(
      `demo failed: kube-sim stopped unexpectedly (exit code ${ended.code}); see ${paths.simLog}\n`,
    );
    return 1;
  }
  say(`\n${ended.signal}: stopping kube-sim`);
  return 0;
}
