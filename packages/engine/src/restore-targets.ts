/**
 * The target files of a restore, created on the thread pool ahead of the workers that fill them.
 * Creating a file blocks in the kernel for 0.1 ms or more on some file systems (journal, inode
 * allocation): done by the workers, that time is taken from their CPU work. Whatever is in the
 * way of a target (an old file, a symlink) is replaced, never followed.
 */
import { close, constants, open, rm } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { Semaphore } from './util/concurrency.js';

const CREATE_NOFOLLOW =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

const openAsync = promisify(open);
const closeAsync = promisify(close);
const rmAsync = promisify(rm);

/** Creates (or truncates) one empty file, replacing a symlink or anything else in the way. */
export async function createEmptyFile(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await openAsync(path, CREATE_NOFOLLOW, 0o600);
  } catch {
    await rmAsync(path, { force: true });
    fd = await openAsync(path, 'wx', 0o600);
  }
  await closeAsync(fd);
}

export class TargetFiles {
  private readonly created: Array<Promise<void> | undefined>;
  private readonly slots: Semaphore;
  /** The last creation queued in each directory. */
  private readonly lastInDir = new Map<string, Promise<void>>();

  /** `parallel`: files being created at once (the thread pool has four threads by default). */
  constructor(
    private readonly paths: readonly string[],
    parallel = 8,
    private readonly createFile: (path: string) => Promise<void> = createEmptyFile,
  ) {
    this.created = new Array<Promise<void> | undefined>(paths.length);
    this.slots = new Semaphore(parallel);
  }

  /** Resolves once the files with these indexes exist; each file is created once. */
  async ensure(indexes: Iterable<number>): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const i of indexes) pending.push((this.created[i] ??= this.create(i)));
    await Promise.all(pending);
  }

  /**
   * Files of one directory are created one after another. Creating a file holds its directory's
   * lock, and other creators in that directory spin on the lock while the holder runs: with the
   * creations queued instead, that CPU goes to the workers. The cost shows where creating is slow,
   * e.g. on ext4 without a journal, which searches past every recently deleted inode.
   */
  private create(i: number): Promise<void> {
    const path = this.paths[i]!;
    const dir = dirname(path);
    const before = this.lastInDir.get(dir);
    const created = (async () => {
      await before?.catch(() => undefined);
      const release = await this.slots.acquire();
      try {
        await this.createFile(path);
      } finally {
        release();
      }
    })();
    this.lastInDir.set(dir, created);
    void created
      .catch(() => undefined)
      .then(() => {
        if (this.lastInDir.get(dir) === created) this.lastInDir.delete(dir);
      });
    return created;
  }
}
