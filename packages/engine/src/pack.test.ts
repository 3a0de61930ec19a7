import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CODEC_RAW, createZstdCodec } from './compression.js';
import { PackWriter, parseHeaderFromPack } from './pack.js';
import { writableInPlace } from './util/direct-io.js';

const ctx = {
  keys: { encryption: randomBytes(32), id: randomBytes(32) },
  codec: createZstdCodec(),
};

describe('PackWriter', () => {
  it('an aligned writer makes packs that can be written where they lie, buffer after buffer', () => {
    const capacity = 64 << 10;
    const writer = new PackWriter(capacity, 2, true);
    // Bodies around the buffer's size: some packs end close to its end, some make it grow.
    for (const size of [1000, capacity - 300, capacity - 100, capacity, capacity + 5000, 77]) {
      const body = randomBytes(size);
      writer.addPayload(`id${size}`, 'data', ctx.keys.encryption, CODEC_RAW, body, size);
      const { data, rows } = writer.finishRows(ctx);
      expect(writableInPlace(data), `pack of a ${size}-byte blob`).toBe(true);
      expect(rows).toHaveLength(1);
      // The pack reads back (its header at its end).
      const blobs = parseHeaderFromPack(ctx as never, 'p', Buffer.from(data));
      expect(blobs.map((b) => b.plainLength)).toEqual([size]);
      writer.recycle(data.buffer as ArrayBuffer);
    }
  });

  it('a plain writer makes packs in buffers of their own, which are not written in place', () => {
    const writer = new PackWriter(4096, 2);
    writer.addPayload('a', 'data', ctx.keys.encryption, CODEC_RAW, randomBytes(100), 100);
    const { data } = writer.finishRows(ctx);
    expect(data.byteOffset).toBe(0);
    expect(writableInPlace(data)).toBe(false);
  });
});
