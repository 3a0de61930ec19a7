/**
 * `kubectl backup tui` (and `kubectl backup` alone on a terminal): the full-screen terminal UI
 * over the same library calls as the commands. Without a terminal it refuses instead of hanging.
 */
import type { Command } from 'commander';
import { loadConfigFile } from '../config-file.js';
import { EXIT_INTERRUPTED, type CliIO } from '../io.js';
import { addClusterOptions, withCluster, type ClusterFlags } from '../k8s-cluster.js';
import { CliError, usageError } from '../output/errors.js';
import { actor, type Session } from '../session.js';
import { DEFAULT_RPO, parseRpo } from '../tui/status.js';

interface TuiFlags extends ClusterFlags {
  rpo?: string;
}

/** Both stdin and stdout are a terminal: the UI can read keys and draw. */
export function isInteractive(io: CliIO): boolean {
  return Boolean(io.stdin.isTTY && io.stdout.isTTY);
}

export function registerTui(program: Command, session: Session): void {
  const cmd = program
    .command('tui')
    .description(
      'full-screen terminal UI: namespaces with backup status, backups, restores, audit trail; back up, restore, verify and delete with a few keys (needs a terminal)',
    );
  addClusterOptions(cmd)
    .option(
      '--rpo <duration>',
      'recovery point objective: namespaces whose last backup is older are "stale", e.g. 30m, 24h, 7d (default: "rpo" in the configuration file, else 24h)',
    )
    .addHelpText(
      'after',
      `
"kubectl backup" with no arguments on a terminal starts it too. -n opens that namespace first.
Keys are shown on the last line; ? shows them all. Colours are off when NO_COLOR is set.

Examples:
  kubectl backup tui
  kubectl backup tui --context prod -n shop --rpo 6h`,
    )
    .action((opts: TuiFlags, c: Command) => runTuiCommand(session, c, opts));
}

async function runTuiCommand(session: Session, cmd: Command, opts: TuiFlags): Promise<void> {
  const { io } = session;
  const rpo = rpoOption(io, opts.rpo);
  if (!isInteractive(io))
    throw usageError(
      'the terminal UI needs a terminal (stdin and stdout); use the commands instead (kubectl backup --help)',
    );
  // loaded only here: the other commands do not pay for React and Ink
  const tui = await import('../tui/index.js');
  await withCluster(io, opts, (conn) =>
    session.withRepo(cmd, { index: true }, (repo) =>
      tui.runTui({
        service: tui.createClusterService({
          conn,
          repo,
          repository: session.location ?? '',
          rpoMs: rpo.ms,
          actor: actor(),
        }),
        rpo: rpo.text,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        stdin: io.stdin as NodeJS.ReadStream,
        stdout: io.stdout as NodeJS.WriteStream,
        stderr: io.stderr as NodeJS.WriteStream,
        env: io.env,
        ...(io.signal ? { signal: io.signal } : {}),
      }),
    ),
  );
  if (io.signal?.aborted) throw new CliError('interrupted', EXIT_INTERRUPTED);
}

function rpoOption(io: CliIO, flag: string | undefined): { text: string; ms: number } {
  const config = flag === undefined ? loadConfigFile(io) : undefined;
  const text = flag ?? config?.rpo ?? DEFAULT_RPO;
  const ms = parseRpo(text);
  if (ms !== undefined) return { text, ms };
  const hint = 'use minutes, hours, days or weeks, e.g. 30m, 24h, 7d';
  if (flag !== undefined) throw usageError(`invalid --rpo "${flag}": ${hint}`);
  throw new CliError(`${config?.path}: invalid "rpo" "${text}": ${hint}`);
}
