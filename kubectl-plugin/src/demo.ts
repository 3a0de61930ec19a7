/**
 * `npm run demo`: starts kube-sim (a Kubernetes API server simulator) seeded with real apps,
 * backs up one namespace with the real `kubectl backup` commands and restores it into another,
 * compares the two, prints how to go on by hand and keeps the cluster up until Ctrl-C. Works in
 * `.tmp/demo/` at the root of the clone, from scratch on each run. See ./demo/run.ts.
 */
import { runDemo } from './demo/run.js';

const USAGE = `Usage: npm run demo [-- --no-wait]

Starts kube-sim with the fixture apps guestbook and mysql-replicated in namespace "shop", writes
data into the MySQL volumes, creates a repository in .tmp/demo/repository (password "demo", a
demo-only default), then runs kubectl backup create, list, restore --target-namespace
shop-restored and describe, and compares shop-restored with shop (objects and volume bytes).
It then prints the commands to go on by hand and keeps the cluster up until Ctrl-C.

Options:
  --no-wait   stop the cluster and exit after printing (also KUBECTL_BACKUP_DEMO_EXIT=1)
  -h, --help  show this help

Environment:
  KUBECTL_BACKUP_DEMO_DIR   work directory (default: .tmp/demo in the clone); deleted first`;

const args = process.argv.slice(2);
const unknown = args.filter((a) => !['--no-wait', '-h', '--help'].includes(a));
if (args.includes('-h') || args.includes('--help')) {
  process.stdout.write(`${USAGE}\n`);
} else if (unknown.length) {
  process.stderr.write(`error: unknown argument "${unknown[0]}"\n\n${USAGE}\n`);
  process.exitCode = 2;
} else {
  const wait = !args.includes('--no-wait') && process.env.KUBECTL_BACKUP_DEMO_EXIT !== '1';
  const code = await runDemo({ wait });
  process.exitCode = code;
  // a socket some library keeps open must not hold the demo up once it is done
  setTimeout(() => process.exit(code), 5_000).unref();
}
