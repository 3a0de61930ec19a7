/**
 * kubectl's cluster flags for the namespace commands (`--kubeconfig`, `--context`, `-n`, `-A`,
 * `--request-timeout`) and the connection they make, with @kubectl-backup/k8s errors turned into
 * CLI errors (usage errors exit 2, everything else 1; the library's messages are already for a
 * person: Forbidden names the verb/resource and the `kubectl auth can-i` command).
 */
import path from 'node:path';
import {
  connect,
  contextNamespace,
  K8sError,
  loadKubeConfig,
  type Connection,
} from '@kubectl-backup/k8s';
import { Option, type Command } from 'commander';
import type { CliIO } from './io.js';
import { CliError, usageError } from './output/errors.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces?: boolean;
  requestTimeout?: string;
}

/** Adds kubectl's cluster flags to a command (`-A` only where it makes sense). */
export function addClusterOptions(
  cmd: Command,
  options: { allNamespaces?: boolean } = {},
): Command {
  cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (default: the current context)')
    .option('-n, --namespace <ns>', "namespace (default: the context's namespace)")
    .option(
      '--request-timeout <duration>',
      'timeout of each API request, e.g. 30s, 2m, 0 for none (default 60s)',
    );
  if (options.allNamespaces)
    cmd.addOption(new Option('-A, --all-namespaces', 'every namespace').conflicts('namespace'));
  return cmd;
}

function kubeconfigFile(io: CliIO, flags: ClusterFlags): string | undefined {
  return flags.kubeconfig ? path.resolve(io.cwd, flags.kubeconfig) : undefined;
}

/**
 * The namespace the command is about without talking to the cluster: `-n`, else the context's
 * (kubectl's rule). Reads the kubeconfig only when `-n` is missing.
 */
export function resolveNamespace(io: CliIO, flags: ClusterFlags): string {
  if (flags.namespace) return flags.namespace;
  try {
    return contextNamespace(
      withKubeconfigEnv(io, () =>
        loadKubeConfig({ kubeconfig: kubeconfigFile(io, flags), context: flags.context }),
      ),
    );
  } catch (err) {
    throw k8sCliError(err, 'give the namespace with -n');
  }
}

/** Connects like kubectl (no request made yet); `fn` runs with the connection, closed after. */
export async function withCluster<T>(
  io: CliIO,
  flags: ClusterFlags,
  fn: (conn: Connection) => Promise<T>,
): Promise<T> {
  let conn: Connection;
  try {
    conn = withKubeconfigEnv(io, () =>
      connect({
        kubeconfig: kubeconfigFile(io, flags),
        context: flags.context,
        namespace: flags.namespace,
        requestTimeout: flags.requestTimeout,
      }),
    );
  } catch (err) {
    throw k8sCliError(err);
  }
  try {
    return await fn(conn);
  } finally {
    conn.client.close();
  }
}

/**
 * client-node's `loadFromDefault` reads `process.env.KUBECONFIG`; the CLI's environment is
 * injected (tests run commands in-process), so it is lent to the process for the load.
 */
function withKubeconfigEnv<T>(io: CliIO, fn: () => T): T {
  if (io.env === process.env) return fn();
  const saved = process.env.KUBECONFIG;
  const savedHome = process.env.HOME;
  setEnv('KUBECONFIG', io.env.KUBECONFIG);
  if (io.env.HOME) setEnv('HOME', io.env.HOME);
  try {
    return fn();
  } finally {
    setEnv('KUBECONFIG', saved);
    setEnv('HOME', savedHome);
  }
}

function setEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A library error as the CLI reports it (usage errors exit 2). */
export function k8sCliError(err: unknown, hint?: string): unknown {
  if (!(err instanceof K8sError)) return err;
  if (err.code === 'EUSAGE') return usageError(err.message);
  if (err.code === 'ENOCONTEXT' && hint) return new CliError(`${err.message}; or ${hint}`);
  return err;
}

/** Runs a command body, translating library errors. */
export async function k8sErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw k8sCliError(err);
  }
}
