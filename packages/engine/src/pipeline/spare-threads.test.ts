import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { backup } from '../backup.js';
import { WrongPasswordError } from '../errors.js';
import { Repository } from '../repository.js';
import { restoreDirectory } from '../restore.js';
import { MemoryStorage } from '../storage/memory.js';
import { initTestRepo, randomBytesSeeded, tempDirs } from '../testing/repo-fixtures.js';
import { threadEndpoint, workerScript } from './endpoints.js';
import { workerInit, type FromWorker } from './protocol.js';
import { prestartWorkers, SpareThreads } from './spare-threads.js';

// Every worker thread this file starts, to see that each one ends.
const threads = vi.hoisted((): Worker[] => []);
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      threads.push(this);
    }
  }
  return { ...real, Worker: RecordedWorker };
});

const dirs = tempDirs();
afterEach(async () => {
  vi.restoreAllMocks();
  await dirs.cleanup();
});

async function repoWithData() {
  const storage = new MemoryStorage();
  await (await initTestRepo(storage, 'pw')).close();
  const src = await dirs.make();
  const data = randomBytesSeeded(3 << 20, 5);
  await writeFile(join(src, 'data.bin'), data);
  return { storage, src, data };
}

describe('worker threads started while the password is checked', () => {
  it('are taken by the next backup and restore, which still save and restore every byte', async () => {
    expect(workerScript()).toBeDefined();
    const { storage, src, data } = await repoWithData();
    const repo = await Repository.open(storage, 'pw', { prestartWorkers: 2 });
    expect(repo.spareThreads.size).toBe(2);
    const snap = await backup(repo, { directory: src }, { saver: { workers: 2 } });
    expect(repo.spareThreads.size).toBe(0);
    repo.spareThreads.start(2);
    const out = await dirs.make();
    await restoreDirectory(repo, snap, out, { workers: 2 });
    expect(repo.spareThreads.size).toBe(0);
    expect((await readFile(join(out, 'data.bin'))).equals(data)).toBe(true);
    await repo.close();
  });

  it('started before the engine is used (prestartWorkers) are the ones the repository takes', async () => {
    const { storage, src, data } = await repoWithData();
    threads.length = 0;
    prestartWorkers(2);
    expect(threads).toHaveLength(2);
    const repo = await Repository.open(storage, 'pw', { prestartWorkers: 2 });
    expect(repo.spareThreads.size).toBe(2);
    const snap = await backup(repo, { directory: src }, { saver: { workers: 2 } });
    // Without prestarting at open too, a backup takes them.
    prestartWorkers(2);
    const plain = await Repository.open(storage, 'pw');
    const out = await dirs.make();
    await restoreDirectory(plain, snap, out, { workers: 2 });
    expect((await readFile(join(out, 'data.bin'))).equals(data)).toBe(true);
    // Four started early, none by the repositories.
    expect(threads).toHaveLength(4);
    await Promise.all([repo.close(), plain.close()]);
    await Promise.all(threads.map((w) => (w.threadId === -1 ? undefined : once(w, 'exit'))));
  });

  it('are ended by close when no backup took them, and by a failed open', async () => {
    const { storage } = await repoWithData();
    threads.length = 0;
    const exited = () =>
      Promise.all(threads.map((w) => (w.threadId === -1 ? undefined : once(w, 'exit'))));

    await expect(Repository.open(storage, 'wrong', { prestartWorkers: 2 })).rejects.toThrow(
      WrongPasswordError,
    );
    expect(threads).toHaveLength(2);
    await exited();
    const repo = await Repository.open(storage, 'pw', { prestartWorkers: 2 });
    expect(repo.spareThreads.size).toBe(2);
    await repo.close();
    expect(threads).toHaveLength(4);
    await exited();
    expect(threads.every((w) => w.threadId === -1)).toBe(true);
  });

  it('report a thread that stops under them as an error instead of waiting forever', async () => {
    const { storage } = await repoWithData();
    const repo = await Repository.open(storage, 'pw', { skipIndex: true });
    const spares = new SpareThreads();
    spares.start(1);
    const thread = spares.take()!;
    const got: FromWorker[] = [];
    const endpoint = threadEndpoint(
      workerScript()!,
      workerInit(repo),
      (msg) => got.push(msg),
      thread,
    );
    await thread.terminate();
    expect(got).toEqual([{ t: 'error', message: expect.stringMatching(/stopped/), exited: true }]);
    await endpoint.close();
    expect(got).toHaveLength(1);
    await repo.close();
  });
});
