import { describe, expect, it } from 'vitest';
import {
  alignedBuffer,
  paddableBuffer,
  paddingRoom,
  roundUp,
  writableInPlace,
  alignedInterior,
  DIRECT_ALIGN,
  PAGE_SIZE,
  sliceParts,
} from './direct-io.js';

describe('alignedInterior', () => {
  it('keeps the whole blocks inside a range, or nothing when they are fewer than asked', () => {
    expect(alignedInterior(100, 3 * DIRECT_ALIGN + 5, 0)).toEqual([DIRECT_ALIGN, 3 * DIRECT_ALIGN]);
    expect(alignedInterior(0, 2 * DIRECT_ALIGN, 0)).toEqual([0, 2 * DIRECT_ALIGN]);
    expect(alignedInterior(100, 3 * DIRECT_ALIGN + 5, 3 * DIRECT_ALIGN)).toBeUndefined();
    // Inside one block there is no whole block, whatever the minimum.
    expect(alignedInterior(1, DIRECT_ALIGN - 1, 0)).toBeUndefined();
    expect(alignedInterior(DIRECT_ALIGN + 1, 2 * DIRECT_ALIGN + 1, 0)).toBeUndefined();
  });

  it('cuts at larger blocks when asked (pages of 16 or 64 KiB)', () => {
    const page = 64 << 10;
    expect(alignedInterior(1, 3 * page + 1, 0, page)).toEqual([page, 3 * page]);
    expect(alignedInterior(1, 2 * page - 1, 0, page)).toBeUndefined();
  });

  it('knows the page size, a whole number of 4 KiB blocks', () => {
    expect(PAGE_SIZE).toBeGreaterThanOrEqual(DIRECT_ALIGN);
    expect(PAGE_SIZE % DIRECT_ALIGN).toBe(0);
  });
});

describe('sliceParts', () => {
  const parts = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fghi')];
  const text = (from: number, to: number) => Buffer.concat(sliceParts(parts, from, to)).toString();

  it('gives any byte range of the concatenation, across and inside parts', () => {
    for (let from = 0; from <= 9; from++)
      for (let to = from; to <= 9; to++) expect(text(from, to)).toBe('abcdefghi'.slice(from, to));
    expect(text(4, Infinity)).toBe('efghi');
    expect(sliceParts(parts, 9, Infinity)).toEqual([]);
    expect(sliceParts(parts, 3, 5)).toHaveLength(1);
  });

  it('returns views, and leaves the parts it was given alone', () => {
    const [view] = sliceParts(parts, 1, 2);
    expect(view!.buffer).toBe(parts[0]!.buffer);
    sliceParts(parts, 4, 7);
    expect(parts.map(String)).toEqual(['abc', 'de', 'fghi']);
  });
});

describe('alignedBuffer', () => {
  it('is zero-filled and at least as large as asked', () => {
    const buf = alignedBuffer(100_000)!;
    expect(buf.length).toBeGreaterThanOrEqual(100_000);
    expect(buf.length % DIRECT_ALIGN).toBe(0);
    expect(buf.every((b) => b === 0)).toBe(true);
  });
});

describe('writableInPlace', () => {
  it('holds for the memory of a paddable buffer at a block boundary, only', () => {
    const buf = paddableBuffer(3 * DIRECT_ALIGN)!;
    expect(buf.length).toBeGreaterThanOrEqual(3 * DIRECT_ALIGN);
    expect(buf.buffer.byteLength - buf.length).toBe(DIRECT_ALIGN);
    expect(paddingRoom(buf.buffer)).toBe(DIRECT_ALIGN);
    expect(writableInPlace(buf.subarray(0, 100))).toBe(true);
    expect(writableInPlace(buf.subarray(DIRECT_ALIGN, DIRECT_ALIGN + 5000))).toBe(true);
    // Its last bytes: padded into the spare room after it.
    expect(writableInPlace(buf.subarray(buf.length - DIRECT_ALIGN, buf.length - 1))).toBe(true);
    // Not on a block boundary; aligned memory that is not a paddable buffer's; plain memory.
    expect(writableInPlace(buf.subarray(1, 100))).toBe(false);
    const aligned = alignedBuffer(2 * DIRECT_ALIGN)!;
    expect(writableInPlace(aligned.subarray(0, 100))).toBe(false);
    expect(paddingRoom(aligned.buffer)).toBe(0);
    expect(writableInPlace(Buffer.alloc(2 * DIRECT_ALIGN).subarray(0, 100))).toBe(false);
  });

  it('rounds up to whole blocks', () => {
    expect([0, 1, DIRECT_ALIGN, DIRECT_ALIGN + 1].map(roundUp)).toEqual([
      0,
      DIRECT_ALIGN,
      DIRECT_ALIGN,
      2 * DIRECT_ALIGN,
    ]);
  });
});
