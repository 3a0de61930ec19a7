import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backup } from './backup.js';
import { check } from './check.js';
import { restoreDirectory, restoreItemStream, readItem } from './restore.js';
import { Repository } from './repository.js';
import { openStorage } from './storage/url.js';
import { startS3rver, type S3rverHandle } from './testing/s3rver.js';
import { initTestRepo, randomBytesSeeded, readTree, tempDir, writeRandomTree } from './testing/repo-fixtures.js';

describe('streams larger than 2 GiB (simulated cheaply: repeating content dedupes)', () => {
  it('round-trips a 2 GiB + 12345 byte stream and a 0-byte stream', async () => {
    const period = randomBytesSeeded(3 << 20, 1234); // not a multiple of any chunk size
    const total = 2 * 1024 ** 3 + 12345;
    const source = function* () {
      for (let sent = 0; sent < total; ) {
        const n = Math.min(period.length, total - sent);
        yield period.subarray(0, n);
        sent += n;
      }
    };
    const expected = createHash('sha256');
    for (const piece of source()) expected.update(piece);

    const repo = await initTestRepo();
    const snap = await backup(repo, {
      streams: [
        { name: 'huge.tar', stream: (async function* () { yield* source(); })() },
        { name: 'empty.tar', stream: (async function* () {})() },
      ],
    });
    expect(snap.stats.bytesTotal).toBe(total);
    // Repetition is stored about once.
    expect(snap.stats.bytesAdded).toBeLessThan(16 << 20);

    const got = createHash('sha256');
    let size = 0;
    for await (const piece of await restoreItemStream(repo, snap, 'huge.tar')) {
      got.update(piece as Buffer);
      size += (piece as Buffer).length;
    }
    expect(size).toBe(total);
    expect(got.digest('hex')).toBe(expected.digest('hex'));
    expect((await readItem(repo, snap, 'empty.tar')).length).toBe(0);
  }, 600_000);
});

describe('backup and restore through S3 (a real s3rver process)', () => {
  let s3: S3rverHandle;
  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('round-trips a tree, reopens from the URL form, and checks clean with --read-data', async () => {
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    const url = s3.url('repos/engine-test');
    const src = await tempDir();
    const out = await tempDir();
    try {
      await writeRandomTree(src.path, 17, { files: 25 });
      await writeFile(join(src.path, 'multi-pack.bin'), randomBytesSeeded(3 << 20, 4));
      const repo = await initTestRepo(openStorage(url), 's3-pass', { packSize: 1 << 20 });
      const snap = await backup(repo, { directory: src.path, documents: [{ name: 'obj', data: '{"a":1}' }] });
      const reopened = await Repository.open(openStorage(url), 's3-pass');
      await restoreDirectory(reopened, snap.id, out.path);
      const [a, b] = [await readTree(src.path), await readTree(out.path)];
      expect([...b.keys()]).toEqual([...a.keys()]);
      for (const [p, e] of a) if (e.type === 'file') expect(b.get(p)!.data!.equals(e.data!), p).toBe(true);
      const report = await check(reopened, { readData: true });
      expect(report.errors).toEqual([]);
      expect(report.packs).toBeGreaterThan(2);
    } finally {
      await src.cleanup();
      await out.cleanup();
    }
  });
});
