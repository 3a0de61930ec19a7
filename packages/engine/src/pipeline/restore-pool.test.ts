import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { initTestRepo } from '../testing/repo-fixtures.js';
import { workerScript } from './endpoints.js';
import { RestorePool } from './restore-pool.js';

describe('RestorePool', () => {
  it.runIf(workerScript())(
    'a worker that failed while nothing waited fails every later span',
    async () => {
      const repo = await initTestRepo();
      // Chunker parameters a worker refuses: its thread posts the error and ends.
      (repo.config.chunker as { avgSize: number }).avgSize = 3;
      const pool = new RestorePool(repo, 16, 1);
      // The error comes while no span waits (as during a restore's tree walk).
      await sleep(1500);
      const span = { packId: 'p', offset: 0, length: 1, data: new Uint8Array(1), blobs: [] };
      await expect(pool.restore(span)).rejects.toThrow(/restore worker failed: .*avgSize/);
      await expect(pool.restore(span)).rejects.toThrow(/restore worker failed/);
      await pool.close();
      await repo.close();
    },
  );
});
