/**
 * Errors as a person reads them: one line `error: …`, a hint where there is an obvious next step,
 * a stack trace only with --debug. Engine errors are mapped by their `code`.
 */
import { EngineError } from '@kubectl-backup/engine';

/** Exit codes: 0 success, 1 failure, 2 usage error (bad flags or arguments). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** An error the CLI raises itself; its message is already fit for a person. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

const NETWORK =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up|timed? ?out/i;

/** The one-line message for an error (no `error:` prefix); `location` names the repository. */
export function describeError(err: unknown, location?: string): string {
  if (err instanceof CliError) return err.message;
  if (!(err instanceof Error)) return String(err);
  const at = location ? ` at ${location}` : '';
  if (err instanceof EngineError) {
    switch (err.code) {
      case 'EPASSWORD':
        return `wrong password: no key of the repository${at} opens with it`;
      case 'ENOREPO':
        return `no repository${at}; create one with "kubectl backup repo init${location ? ` --repo ${location}` : ''}"`;
      case 'ENOKEYS':
        return `the repository${at} has no keys: it is incomplete or damaged`;
      case 'ELOCKED':
      case 'EINTEGRITY':
      case 'EUSAGE':
        return err.message;
      case 'EIO':
        if (NETWORK.test(err.message))
          return `cannot reach the repository storage${at}: ${err.message} (check the endpoint and the network)`;
        return err.message;
      default:
        return err.message;
    }
  }
  return err.message || err.name;
}

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof EngineError && err.code === 'EUSAGE') return EXIT_USAGE;
  return EXIT_FAILURE;
}

/** What to print: `error: …` and, with debug, the stack and its causes. */
export function formatError(
  err: unknown,
  options: { debug?: boolean; location?: string } = {},
): string {
  const line = `error: ${describeError(err, options.location).replace(/\s*\n\s*/g, ' ')}\n`;
  if (!options.debug || !(err instanceof Error)) return line;
  let out = line;
  let cur: unknown = err;
  for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
    out += `${depth ? 'caused by: ' : ''}${cur.stack ?? cur.message}\n`;
    cur = cur.cause;
  }
  return out;
}
