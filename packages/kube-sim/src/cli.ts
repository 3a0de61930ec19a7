#!/usr/bin/env node
/**
 * The kube-sim command:
 *
 *   kube-sim serve --port N --data DIR --kubeconfig-out FILE [--seed DIR] [--host H] [--no-controllers]
 *
 * prints one line once ready and serves until SIGTERM/SIGINT (state is flushed, exit 0).
 */
import { KubeSim, type RunningKubeSim } from './sim.js';

export const USAGE = `Usage: kube-sim serve [options]

A Kubernetes API server simulator (HTTPS, generated CA, bearer-token users).

Options:
  --port N               port to listen on (0 picks a free port; default 0)
  --host H               address to listen on (default 127.0.0.1)
  --data DIR             state directory, kept across restarts (required)
  --kubeconfig-out FILE  where to write the kubeconfig (default DIR/kubeconfig)
  --seed DIR             apply every manifest under DIR before reporting ready
  --no-controllers       do not run the workload/volume/snapshot controllers
  -h, --help             show this help

The kubeconfig has the contexts admin (cluster-admin), dev (edit in namespace team-a) and
viewer (view everywhere). Stop with SIGTERM or SIGINT.`;

export interface ServeArgs {
  port: number;
  host: string;
  data: string;
  kubeconfigOut?: string;
  seed?: string;
  controllers: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): { command: 'help' } | { command: 'serve'; args: ServeArgs } {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help') return { command: 'help' };
  const [command, ...rest] = argv;
  if (command !== 'serve') throw new UsageError(`unknown command "${command}" (expected "serve")`);
  const args: Partial<ServeArgs> & { controllers: boolean } = { controllers: true };
  for (let i = 0; i < rest.length; i++) {
    let flag = rest[i];
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    const take = () => {
      if (value !== undefined) return value;
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`flag ${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--port': {
        const raw = take();
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got "${raw}"`);
        args.port = n;
        break;
      }
      case '--host':
        args.host = take();
        break;
      case '--data':
        args.data = take();
        break;
      case '--kubeconfig-out':
        args.kubeconfigOut = take();
        break;
      case '--seed':
        args.seed = take();
        break;
      case '--no-controllers':
        args.controllers = false;
        break;
      default:
        throw new UsageError(`unknown flag "${flag}"`);
    }
  }
  if (!args.data) throw new UsageError('--data DIR is required');
  return { command: 'serve', args: { port: args.port ?? 0, host: args.host ?? '127.0.0.1', data: args.data, kubeconfigOut: args.kubeconfigOut, seed: args.seed, controllers: args.controllers } };
}

export async function main(argv: string[]): Promise<number | undefined> {
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`kube-sim: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (parsed.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  const a = parsed.args;
  let sim: RunningKubeSim;
  try {
    sim = await KubeSim.start({ dataDir: a.data, port: a.port, host: a.host, kubeconfigPath: a.kubeconfigOut, seedDir: a.seed, controllers: a.controllers });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') console.error(`kube-sim: port ${a.port} on ${a.host} is already in use`);
    else console.error(`kube-sim: could not start: ${e.message}`);
    return 1;
  }
  console.log(`kube-sim ready on ${sim.url} (kubeconfig: ${sim.kubeconfigPath})`);
  await new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await sim.stop();
  return 0;
}

// run when executed directly (`node dist/cli.js …`); bin/kube-sim.js imports main() instead
const invoked = process.argv[1] ? new URL(`file://${process.argv[1]}`).href : '';
if (invoked === import.meta.url) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (typeof code === 'number') process.exitCode = code;
    },
    (err) => {
      console.error(`kube-sim: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}
