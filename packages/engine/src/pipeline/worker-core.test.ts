import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKER } from '../chunker.js';
import { randomBytesSeeded } from '../testing/repo-fixtures.js';
import type { FromWorker } from './protocol.js';
import { WorkerCore } from './worker-core.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function core(got: FromWorker[], packSize: number): WorkerCore {
  return new WorkerCore(
    {
      idKey: randomBytes(32),
      encryptionKey: randomBytes(32),
      gearSeed: randomBytes(32),
      chunker: DEFAULT_CHUNKER,
      compressionLevel: 3,
      packSize,
    },
    (out) => got.push(out.msg),
  );
}

/** Chunks 6 MiB of random bytes and returns their ids. */
async function chunked(worker: WorkerCore, got: FromWorker[]): Promise<string[]> {
  worker.handle([{ t: 'data', job: 1, data: randomBytesSeeded(6 << 20, 3), final: true }]);
  while (!got.some((m) => m.t === 'chunks' && m.results.some((r) => r.final))) await turn();
  return got.flatMap((m) =>
    m.t === 'chunks' ? m.results.flatMap((r) => r.chunks.map((c) => c.id)) : [],
  );
}

describe('WorkerCore', () => {
  it('seals nothing more once closed, even with sealing scheduled', async () => {
    const got: FromWorker[] = [];
    const worker = core(got, 64 << 20); // one pack for everything
    const ids = await chunked(worker, got);
    worker.handle([{ t: 'resolve', store: ids, drop: [] }]);
    worker.close();
    worker.handle([{ t: 'flush' }]);
    for (let k = 0; k < 50; k++) await turn();
    // Still open, it would have sealed the rest, handed the pack over and answered the flush.
    expect(got.filter((m) => m.t !== 'chunks')).toEqual([]);
  });

  it('seals a large verdict a part per turn, so other work gets turns in between', async () => {
    const got: FromWorker[] = [];
    const worker = core(got, 64 << 20); // one pack for everything
    const ids = await chunked(worker, got);
    worker.handle([{ t: 'resolve', store: ids, drop: [] }, { t: 'flush' }]);
    // The flush is answered once everything is sealed: not within the turn that got 6 MiB.
    const flushed = () => got.some((m) => m.t === 'flushed');
    expect(flushed()).toBe(false);
    let turns = 0;
    while (!flushed() && turns < 1000) {
      await turn();
      turns++;
    }
    expect(turns).toBeGreaterThanOrEqual(10);
    const pack = got.find((m) => m.t === 'pack');
    expect(pack?.t === 'pack' && pack.rows.map((r) => r[0])).toEqual(ids);
    worker.close();
  });
});
