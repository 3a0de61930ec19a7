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
}

export function processIO(): CliIO {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
}
