/**
 * The user's configuration file, `$XDG_CONFIG_HOME/kubectl-backup/config.yaml` (else
 * `~/.config/kubectl-backup/config.yaml`; `KUBECTL_BACKUP_CONFIG` names another). It is the last
 * source before the built-in defaults: flags > environment > this file.
 *
 * ```yaml
 * repository: s3://backups/prod?region=eu-west-1   # or a path; relative to this file's folder
 * passwordFile: ~/.config/kubectl-backup/password   # never the password itself
 * rpo: 24h                                          # age after which a backup is stale (TUI)
 * ```
 *
 * A missing file is no configuration; a file that cannot be read or parsed, or that holds an
 * unknown key or a wrong type, is an error naming the file (a typo must not silently fall back
 * to the default repository).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import type { CliIO } from './io.js';
import { CliError } from './output/errors.js';

export const ENV_CONFIG = 'KUBECTL_BACKUP_CONFIG';

export interface ConfigFile {
  /** Where it was read from. */
  path: string;
  /** Absolute path or URL. */
  repository?: string;
  /** Absolute path. */
  passwordFile?: string;
  rpo?: string;
}

const KEYS = ['repository', 'passwordFile', 'rpo'] as const;

export function configFilePath(env: CliIO['env']): string {
  if (env[ENV_CONFIG]) return env[ENV_CONFIG];
  const home = env.HOME || homedir();
  const base = env.XDG_CONFIG_HOME || path.join(home, '.config');
  return path.join(base, 'kubectl-backup', 'config.yaml');
}

/** `~/x` → the home directory's x; other relative paths against the file's own folder. */
function resolvePath(value: string, file: string, env: CliIO['env']): string {
  if (value === '~' || value.startsWith('~/'))
    return path.join(env.HOME || homedir(), value.slice(1));
  return path.resolve(path.dirname(file), value);
}

const isUrl = (s: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s);

/** Reads and validates the configuration file; undefined when there is none. */
export function loadConfigFile(io: Pick<CliIO, 'env' | 'cwd'>): ConfigFile | undefined {
  const file = path.resolve(io.cwd, configFilePath(io.env));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !io.env[ENV_CONFIG]) return undefined;
    throw new CliError(`cannot read the configuration file ${file}: ${code ?? String(err)}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CliError(`${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return { path: file };
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new CliError(`${file} must be a mapping of keys (${KEYS.join(', ')})`);
  const out: ConfigFile = { path: file };
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'password')
      throw new CliError(
        `${file}: a password is never kept in the configuration file; put it in a file readable only by you and name it with "passwordFile"`,
      );
    if (!(KEYS as readonly string[]).includes(key))
      throw new CliError(`${file}: unknown key "${key}" (known keys: ${KEYS.join(', ')})`);
    if (typeof value !== 'string' || value.trim() === '')
      throw new CliError(`${file}: "${key}" must be a non-empty string`);
    if (key === 'repository')
      out.repository = isUrl(value) ? value : resolvePath(value, file, io.env);
    else if (key === 'passwordFile') out.passwordFile = resolvePath(value, file, io.env);
    else out.rpo = value;
  }
  return out;
}
