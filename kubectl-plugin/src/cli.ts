/**
 * The `kubectl backup` program: commander wiring with injected streams, so tests run it
 * in-process and `bin.ts` stays tiny. Each command is parse → validate → run, in
 * `commands/<group>/<name>.ts`.
 */
import { VERSION } from '@kubectl-backup/engine';
import { Command, CommanderError } from 'commander';
import { registerMover } from './commands/mover/index.js';
import { registerNamespaceCommands } from './commands/ns/index.js';
import { registerScheduleCommands } from './commands/schedule/index.js';
import { registerRepo } from './commands/repo/index.js';
import { isInteractive, registerTui } from './commands/tui.js';
import { ENVIRONMENT_HELP } from './help.js';
import { EXIT_INTERRUPTED, type CliIO } from './io.js';
import { EXIT_USAGE, exitCodeOf, formatError } from './output/errors.js';
import { Session } from './session.js';

export function buildProgram(session: Session): Command {
  const { io } = session;
  const program = new Command('kubectl backup')
    .description(
      'Backup, restore and disaster recovery for Kubernetes namespaces (kubectl plugin).',
    )
    .version(VERSION, '--version', 'print the version')
    .option(
      '--repo <url>',
      'repository URL or path (default: $KUBECTL_BACKUP_REPOSITORY, else config.yaml, else a local repository)',
    )
    .option(
      '--password-file <file>',
      'read the repository password from a file (default: $KUBECTL_BACKUP_PASSWORD, $KUBECTL_BACKUP_PASSWORD_FILE, config.yaml, else prompt)',
    )
    .option('--debug', 'print stack traces of errors')
    .configureHelp({ showGlobalOptions: true, helpWidth: 110 })
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      getOutHelpWidth: () => io.stdout.columns ?? 110,
      getErrHelpWidth: () => io.stderr.columns ?? 110,
    })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText('afterAll', ENVIRONMENT_HELP);
  registerNamespaceCommands(program, session);
  registerScheduleCommands(program, session);
  registerRepo(program, session);
  registerMover(program, session);
  registerTui(program, session);
  return program;
}

/** Runs the program with `argv` (arguments after the executable); resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const session = new Session(io);
  const program = buildProgram(session);
  if (argv.length === 0) {
    // on a terminal: the full-screen UI; otherwise help, and a usage error instead of a hang
    if (isInteractive(io)) argv = ['tui'];
    else {
      program.outputHelp({ error: true });
      io.stderr.write('error: no command given (the terminal UI needs a terminal)\n');
      return EXIT_USAGE;
    }
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander printed its message (or the help) already.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    io.stderr.write(
      formatError(err, { debug: argv.includes('--debug'), location: session.location }),
    );
    return io.signal?.aborted ? EXIT_INTERRUPTED : exitCodeOf(err);
  }
}
