import { describe, expect, it } from 'vitest';
import { createCutFinder, DEFAULT_CHUNKER, gearTable, StreamChunker } from './chunker.js';
import { randomBytesSeeded } from './testing/repo-fixtures.js';

/** The FastCDC definition, one byte at a time, as the format document states it. */
function referenceCuts(data: Uint8Array, gear: Int32Array): number[] {
  const { minSize, avgSize, maxSize } = DEFAULT_CHUNKER;
  const bits = Math.log2(avgSize);
  const maskS = ~((1 << (32 - (bits + 2))) - 1);
  const maskL = ~((1 << (32 - (bits - 2))) - 1);
  const cuts: number[] = [];
  let start = 0;
  while (start < data.length) {
    let len = Math.min(maxSize, data.length - start);
    let h = 0;
    for (let i = minSize; i < Math.min(maxSize, data.length - start); i++) {
      h = ((h << 1) + gear[data[start + i]!]!) | 0;
      if ((h & (i < avgSize ? maskS : maskL)) === 0) {
        len = i + 1;
        break;
      }
    }
    cuts.push(len);
    start += len;
  }
  return cuts;
}

describe('FastCDC chunker', () => {
  const gear = gearTable(Buffer.alloc(32, 7));
  const finder = createCutFinder(DEFAULT_CHUNKER, gear);

  it('cuts exactly where the reference definition cuts, and within the size bounds', () => {
    const data = randomBytesSeeded(6 << 20, 3);
    const cuts: number[] = [];
    for (let pos = 0; pos < data.length; ) {
      let len = finder.next(data, pos, data.length);
      if (len < 0) len = data.length - pos;
      cuts.push(len);
      pos += len;
    }
    expect(cuts).toEqual(referenceCuts(data, gear));
    for (const len of cuts.slice(0, -1)) {
      expect(len).toBeGreaterThan(DEFAULT_CHUNKER.minSize);
      expect(len).toBeLessThanOrEqual(DEFAULT_CHUNKER.maxSize);
    }
    const avg = data.length / cuts.length;
    expect(avg).toBeGreaterThan(DEFAULT_CHUNKER.avgSize / 2);
    expect(avg).toBeLessThan(DEFAULT_CHUNKER.avgSize * 2);
  });

  it('gives the same chunks whatever the piece sizes of the stream', () => {
    const data = randomBytesSeeded(2 << 20, 9);
    const whole = new StreamChunker(finder);
    const a = [...whole.push(data), ...whole.finish()].map((c) => c.length);
    const pieces = new StreamChunker(finder);
    const b: number[] = [];
    for (let i = 0; i < data.length; i += 77_777) b.push(...pieces.push(data.subarray(i, i + 77_777)).map((c) => c.length));
    b.push(...pieces.finish().map((c) => c.length));
    expect(b).toEqual(a);
  });

  it('forces a cut at maxSize in data without cut points (zeros)', () => {
    const zeros = new Uint8Array(1 << 20);
    expect(finder.next(zeros, 0, zeros.length)).toBe(DEFAULT_CHUNKER.maxSize);
  });

  it('depends on the gear seed (repository-specific boundaries)', () => {
    const data = randomBytesSeeded(1 << 20, 5);
    const other = createCutFinder(DEFAULT_CHUNKER, gearTable(Buffer.alloc(32, 8)));
    expect(other.next(data, 0, data.length)).not.toBe(finder.next(data, 0, data.length));
  });
});
