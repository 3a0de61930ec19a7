/**
 * The streams and environment a command runs with. `bin.ts` passes the process's own; tests
 * pass in-memory streams and a made-up environment, so every command runs in-process too.
 */
export interface OutStream {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (progress lines, colours, prompts). */
  isTTY?: boolean;
  columns?: number;
}

export interface InStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
}

export interface CliIO {
  stdin: InStream;
  stdout: OutStream;
  stderr: OutStream;
  env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  cwd: string;
  /** Asks for a secret without echo; default: the TTY prompt of ./prompt.ts. Tests inject one. */
  promptSecret?: (question: string) => Promise<string>;
  /** Aborted on the first SIGINT/SIGTERM: long operations stop cleanly (locks released). */
  signal?: AbortSignal;
}

/** Exit code of a command stopped by a signal (as shells report SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * The process's streams and environment. The first SIGINT or SIGTERM aborts `signal` (the
 * running operation stops at its next check and cleans up); a second one exits at once.
 */
export function processIO(): CliIO {
  const interrupt = new AbortController();
  const onSignal = () => {
    interrupt.abort();
    process.once('SIGINT', () => process.exit(EXIT_INTERRUPTED));
    process.once('SIGTERM', () => process.exit(EXIT_INTERRUPTED));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `kubectl backup repo audit | head`: a closed pipe ends the command quietly.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  return {
    signal: interrupt.signal,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}
