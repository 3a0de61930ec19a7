/**
 * Where the repository is and what its password is, from flags, environment and terminal:
 *
 * - location: `--repo URL`, else `KUBECTL_BACKUP_REPOSITORY`, else a local repository in the
 *   user's data directory (`$XDG_DATA_HOME/kubectl-backup/repository`, or
 *   `~/.local/share/kubectl-backup/repository`), announced on stderr;
 * - passwords: a `--…password-file` flag, else an environment variable, else a no-echo prompt
 *   when stdin and stderr are a terminal, else an error that says what to set.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { describeLocation, type InitOptions } from '@kubectl-backup/engine';
import type { CliIO } from './io.js';
import { configFilePath, loadConfigFile } from './config-file.js';
import { canPrompt, promptSecret } from './prompt.js';
import { CliError, usageError } from './output/errors.js';

export const ENV_REPOSITORY = 'KUBECTL_BACKUP_REPOSITORY';
export const ENV_PASSWORD = 'KUBECTL_BACKUP_PASSWORD';
export const ENV_PASSWORD_FILE = 'KUBECTL_BACKUP_PASSWORD_FILE';
export const ENV_NEW_PASSWORD = 'KUBECTL_BACKUP_NEW_PASSWORD';
export const ENV_TO_PASSWORD = 'KUBECTL_BACKUP_TO_PASSWORD';
export const ENV_FROM_PASSWORD = 'KUBECTL_BACKUP_FROM_PASSWORD';
/** Test-only: `fast` makes new keys with a cheap scrypt cost. Never set it for real repositories. */
export const ENV_TEST_SCRYPT = 'KUBECTL_BACKUP_TEST_SCRYPT';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  repo?: string;
  passwordFile?: string;
  debug?: boolean;
}

export interface RepoLocation {
  /** What openStorage gets (plain paths made absolute against the working directory). */
  url: string;
  /** Safe to print: no secrets, no query parameters but endpoint/region/forcePathStyle. */
  display: string;
}

export function defaultRepositoryPath(env: CliIO['env']): string {
  const home = env.HOME || homedir();
  const data = env.XDG_DATA_HOME || path.join(home, '.local', 'share');
  return path.join(data, 'kubectl-backup', 'repository');
}

function absolutize(url: string, cwd: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url) ? url : path.resolve(cwd, url);
}

export function resolveRepoLocation(
  io: CliIO,
  url: string | undefined,
  announce = true,
): RepoLocation {
  const given = url ?? io.env[ENV_REPOSITORY] ?? loadConfigFile(io)?.repository;
  if (given !== undefined && given.trim() === '') throw usageError('the repository URL is empty');
  if (given) {
    const abs = absolutize(given, io.cwd);
    return { url: abs, display: describeLocation(abs) };
  }
  const local = defaultRepositoryPath(io.env);
  if (announce)
    io.stderr.write(
      `using the local repository ${local} (choose another with --repo, ${ENV_REPOSITORY} or "repository" in ${configFilePath(io.env)})\n`,
    );
  return { url: local, display: local };
}

export interface SecretSource {
  /** `--password-file` value. */
  file?: string;
  /** Environment variable to read. */
  envVar: string;
  /** Flag name for messages, e.g. `--password-file`. */
  flag: string;
  /** `repository password`, `new password`… */
  what: string;
  /** Ask twice and compare (new passwords). */
  confirm?: boolean;
  /** Never prompt (mover pods). */
  noPrompt?: boolean;
}

/** Strips one trailing newline, as `echo secret > file` adds one. */
function fromFile(text: string): string {
  return text.replace(/\r?\n$/, '');
}

export async function readSecret(io: CliIO, src: SecretSource): Promise<string> {
  let secret: string | undefined;
  if (src.file !== undefined) {
    try {
      secret = fromFile(await readFile(path.resolve(io.cwd, src.file), 'utf8'));
    } catch (err) {
      throw new CliError(
        `cannot read ${src.flag} ${src.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!secret) throw new CliError(`${src.flag} ${src.file} is empty`);
    return secret;
  }
  secret = io.env[src.envVar];
  if (secret) return secret;
  if (src.noPrompt || !canPrompt(io)) {
    throw new CliError(
      `no ${src.what}: set ${src.envVar} or pass ${src.flag} (no terminal to prompt on)`,
    );
  }
  secret = await promptSecret(io, `enter ${src.what}: `);
  if (!secret) throw new CliError(`an empty ${src.what} is not allowed`);
  if (src.confirm && (await promptSecret(io, `enter ${src.what} again: `)) !== secret) {
    throw new CliError(`the two ${src.what}s do not match`);
  }
  return secret;
}

/**
 * The repository password: `--password-file`, else `KUBECTL_BACKUP_PASSWORD`, else
 * `KUBECTL_BACKUP_PASSWORD_FILE`, else the configuration file's `passwordFile`, else a prompt.
 */
export function repositoryPassword(
  io: CliIO,
  globals: GlobalOptions,
  opts: { confirm?: boolean; noPrompt?: boolean } = {},
) {
  const base = { envVar: ENV_PASSWORD, what: 'repository password', ...opts };
  if (globals.passwordFile !== undefined || io.env[ENV_PASSWORD])
    return readSecret(io, { ...base, file: globals.passwordFile, flag: '--password-file' });
  if (io.env[ENV_PASSWORD_FILE])
    return readSecret(io, { ...base, file: io.env[ENV_PASSWORD_FILE], flag: ENV_PASSWORD_FILE });
  const config = loadConfigFile(io);
  if (config?.passwordFile)
    return readSecret(io, {
      ...base,
      file: config.passwordFile,
      flag: `passwordFile of ${config.path}`,
    });
  return readSecret(io, { ...base, flag: '--password-file' });
}

/** Key-derivation options for new keys: the engine default, or a cheap cost when testing. */
export function keyOptions(env: CliIO['env']): Pick<InitOptions, 'scrypt'> {
  const mode = env[ENV_TEST_SCRYPT];
  if (!mode) return {};
  if (mode !== 'fast') throw usageError(`${ENV_TEST_SCRYPT} must be "fast" or unset`);
  return { scrypt: { N: 1024, r: 8, p: 1 } };
}
