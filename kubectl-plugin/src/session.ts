/**
 * What a command run shares: the streams, the global options, the repository it opened (for
 * error messages) and the audit log helper. One Session per `runCli` call.
 */
import { hostname, userInfo } from 'node:os';
import {
  appendAudit,
  NoRepositoryError,
  openStorage,
  Repository,
  type AuditInput,
  type Storage,
} from '@kubectl-backup/engine';
import type { Command } from 'commander';
import {
  repositoryPassword,
  resolveRepoLocation,
  type GlobalOptions,
  type RepoLocation,
} from './config.js';
import type { CliIO } from './io.js';
import { describeError } from './output/errors.js';

export interface OpenRepoOptions {
  /** Load the index (needed to read or write blobs). Default false. */
  index?: boolean;
  /** Never prompt for the password (mover commands). */
  noPrompt?: boolean;
  /** Host name recorded in new snapshots (default: this machine's). */
  host?: string;
  /**
   * The command backs up or restores data: its worker threads start while the password is
   * checked (they end with the command).
   */
  dataWork?: boolean;
}

export type AuditSummary = Pick<AuditInput, 'target' | 'details'>;

export function actor(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${hostname()}`;
}

export class Session {
  /** Printable location of the repository in use, for error messages. */
  location?: string;

  constructor(readonly io: CliIO) {}

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  /** Resolves a repository location (announcing the default one), opens its storage for `fn`. */
  async withStorage<T>(
    url: string | undefined,
    fn: (storage: Storage, location: RepoLocation) => Promise<T>,
  ): Promise<T> {
    const location = resolveRepoLocation(this.io, url);
    const outer = this.location;
    this.location = location.display;
    const storage = openStorage(location.url, { env: this.io.env });
    try {
      const result = await fn(storage, location);
      this.location = outer; // errors from here on are about the outer repository again
      return result;
    } finally {
      await storage.close().catch(() => undefined);
    }
  }

  /** Opens the repository of the global options for `fn`. */
  withRepo<T>(
    cmd: Command,
    options: OpenRepoOptions,
    fn: (repo: Repository) => Promise<T>,
  ): Promise<T> {
    const globals = this.globals(cmd);
    const password = () => repositoryPassword(this.io, globals, { noPrompt: options.noPrompt });
    return this.withStorage(globals.repo, async (storage) => {
      const repo = await this.open(storage, password, options);
      try {
        return await fn(repo);
      } finally {
        await repo.close();
      }
    });
  }

  /** Opens a repository in `storage`; checks that it exists before asking for a password. */
  async open(
    storage: Storage,
    password: () => Promise<string>,
    options: OpenRepoOptions = {},
  ): Promise<Repository> {
    if (!(await storage.exists('config'))) throw new NoRepositoryError(storage.location);
    return Repository.open(storage, await password(), {
      skipIndex: !options.index,
      prestartWorkers: Boolean(options.dataWork),
      ...(options.host ? { host: options.host } : {}),
    });
  }

  /**
   * Runs a mutating operation and records it in the repository's audit log: `success` with
   * the summary of the result, or `failure` with the error message (then rethrows).
   */
  async audited<T>(
    repo: Repository,
    action: string,
    fn: () => Promise<T>,
    summary?: (result: T) => AuditSummary,
    target?: string,
  ): Promise<T> {
    let result: T;
    try {
      result = await fn();
    } catch (err) {
      await this.audit(repo, {
        action,
        target,
        outcome: 'failure',
        details: { error: describeError(err, this.location) },
      });
      throw err;
    }
    await this.audit(repo, { action, target, outcome: 'success', ...summary?.(result) });
    return result;
  }

  /** Appends one audit entry; a failure to do so is a warning, not the command's failure. */
  async audit(repo: Repository, entry: Omit<AuditInput, 'actor'>): Promise<void> {
    try {
      await appendAudit(repo, { actor: actor(), ...entry }, { lockWaitMs: 30_000 });
    } catch (err) {
      this.io.stderr.write(
        `warning: could not append to the audit log: ${describeError(err, this.location)}\n`,
      );
    }
  }
}
