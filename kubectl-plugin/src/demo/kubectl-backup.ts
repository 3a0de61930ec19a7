/**
 * Runs `kubectl backup …` through the CLI's own code path (`runCli`, what the installed
 * `kubectl-backup` runs), echoing the command and showing its normal output.
 */
import { runCli } from '../cli.js';
import type { CliIO } from '../io.js';
import { say } from './say.js';

export interface CommandContext {
  /** The environment the printed commands assume: KUBECONFIG, repository, password. */
  env: Record<string, string | undefined>;
  cwd: string;
  signal: AbortSignal;
}

/** Resolves with the command's stdout; throws when it exits non-zero (it printed why). */
export async function kubectlBackup(args: string[], ctx: CommandContext): Promise<string> {
  say(`$ kubectl backup ${args.join(' ')}`);
  let captured = '';
  const out = process.stdout;
  const io: CliIO = {
    stdin: process.stdin,
    stdout: {
      write: (s: string) => ((captured += s), out.write(s)),
      isTTY: out.isTTY,
      columns: out.columns,
    },
    stderr: process.stderr,
    env: ctx.env,
    cwd: ctx.cwd,
    signal: ctx.signal,
  };
  const code = await runCli(args, io);
  if (code !== 0) throw new Error(`kubectl backup ${args.join(' ')} exited with code ${code}`);
  return captured;
}
