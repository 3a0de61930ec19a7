/** Opens the configured repositories (one Repository per use; storage closed afterwards). */
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '@backstage/errors';
import {
  describeLocation,
  NoRepositoryError,
  openStorage,
  Repository,
} from '@kubectl-backup/engine';
import type { RepositoryConfig } from '../../config/index.js';

export interface OpenRepositoryOptions {
  /** Load the index at once (needed to read or write blobs; `repo.reloadIndex()` later works too). */
  index?: boolean;
  /** Host name recorded in new snapshots. */
  host?: string;
  /** User recorded in new snapshots. */
  user?: string;
}

export class RepositoryPool {
  private readonly byName: Map<string, RepositoryConfig>;

  constructor(configs: RepositoryConfig[]) {
    this.byName = new Map(configs.map((c) => [c.name, c]));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The configured repository, or NotFoundError. */
  get(name: string): RepositoryConfig {
    const c = this.byName.get(name);
    if (!c)
      throw new NotFoundError(`no repository named "${name}" is configured (backup.repositories)`);
    return c;
  }

  /** The location without credentials, for display. */
  location(name: string): string {
    return describeLocation(this.get(name).url);
  }

  /** Opens the repository for `fn` and closes its storage afterwards. */
  async withRepository<T>(
    name: string,
    options: OpenRepositoryOptions,
    fn: (repo: Repository) => Promise<T>,
  ): Promise<T> {
    const config = this.get(name);
    const storage = openStorage(
      config.url,
      config.credentials ? { credentials: config.credentials } : {},
    );
    try {
      if (!(await storage.exists('config'))) throw new NoRepositoryError(storage.location);
      const repo = await Repository.open(storage, await password(config), {
        skipIndex: !options.index,
        ...(options.host ? { host: options.host } : {}),
        ...(options.user ? { user: options.user } : {}),
      });
      return await fn(repo);
    } finally {
      await storage.close().catch(() => undefined);
    }
  }
}

async function password(config: RepositoryConfig): Promise<string> {
  if (config.password !== undefined) return config.password;
  const text = await readFile(config.passwordFile!, 'utf8');
  return text.replace(/\r?\n$/, '');
}
