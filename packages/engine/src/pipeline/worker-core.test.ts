import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHUNKER } from '../chunker.js';
import { randomBytesSeeded } from '../testing/repo-fixtures.js';
import type { FromWorker } from './protocol.js';
import { WorkerCore } from './worker-core.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WorkerCore', () => {
  it('seals a large verdict a part per turn, so other work gets turns in between', async () => {
    const got: FromWorker[] = [];
    const core = new WorkerCore(
      {
        idKey: randomBytes(32),
        encryptionKey: randomBytes(32),
        gearSeed: randomBytes(32),
        chunker: DEFAULT_CHUNKER,
        compressionLevel: 3,
        packSize: 64 << 20, // one pack for everything
      },
      (out) => got.push(out.msg),
    );
    core.handle([{ t: 'data', job: 1, data: randomBytesSeeded(6 << 20, 3), final: true }]);
    while (!got.some((m) => m.t === 'chunks' && m.results.some((r) => r.final))) await turn();
    const ids = got.flatMap((m) => (m.t === 'chunks' ? m.results.flatMap((r) => r.chunks) : []));
    core.handle([{ t: 'resolve', store: ids.map((c) => c.id), drop: [] }, { t: 'flush' }]);
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
    expect(pack?.t === 'pack' && pack.rows.map((r) => r[0])).toEqual(ids.map((c) => c.id));
    core.close();
  });
});
