/**
 * Reads trees for a restore's walk, which reads hundreds of them before the first file is written.
 * From a directory repository a tree is read with synchronous calls (open, pread, close: some
 * 10 µs from the page cache) instead of four trips through the thread pool; a failed read falls
 * back to `Repository.loadTree`, which reports why. Other storages are read asynchronously, a few
 * trees at once.
 */
import { packKey } from './pack.js';
import type { Repository } from './repository.js';
import type { Tree } from './types.js';
import { Semaphore } from './util/concurrency.js';
import { readRangeInto } from './util/read-range.js';

export function treeReader(repo: Repository, parallel = 16): (id: string) => Promise<Tree> {
  const local = repo.storage.localPath?.bind(repo.storage);
  const reads = new Semaphore(parallel);
  return async (id) => {
    const entry = local && repo.index.get(id);
    if (entry && entry.type === 'tree') {
      const sealed = readRangeSync(local(packKey(entry.pack)), entry.offset, entry.length);
      if (sealed) return repo.parseTree(repo.decodeBlob(id, sealed));
    }
    const release = await reads.acquire();
    try {
      return await repo.loadTree(id);
    } finally {
      release();
    }
  };
}

/** `length` bytes at `offset` of a file, or undefined if they cannot all be read. */
function readRangeSync(path: string, offset: number, length: number): Buffer | undefined {
  const buf = Buffer.allocUnsafe(length);
  try {
    return readRangeInto(path, offset, length, buf) === length ? buf : undefined;
  } catch {
    return undefined;
  }
}
