import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  createArenaCutFinder,
  createCutFinder,
  DEFAULT_CHUNKER,
  gearTable,
  StreamChunker,
  type CutFinder,
} from './chunker.js';
import { randomBytesSeeded } from './testing/repo-fixtures.js';
import type { ChunkerParams } from './types.js';
import { GEAR_WASM_BASE64 } from './wasm/gear-wasm.js';

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
    for (let pos = 0; pos < data.length;) {
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
    for (let i = 0; i < data.length; i += 77_777)
      b.push(...pieces.push(data.subarray(i, i + 77_777)).map((c) => c.length));
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

describe('WebAssembly cut finder (wasm/gear.wat)', () => {
  const cutsOf = (f: CutFinder, data: Uint8Array): number[] => {
    const cuts: number[] = [];
    for (let pos = 0; pos < data.length;) {
      const len = f.next(data, pos, data.length);
      cuts.push(len);
      if (len < 0) break;
      pos += len;
    }
    return cuts;
  };
  const paramSets: ChunkerParams[] = [
    DEFAULT_CHUNKER,
    { algorithm: 'fastcdc-gear32-v1', minSize: 1000, avgSize: 4096, maxSize: 9999 },
    { algorithm: 'fastcdc-gear32-v1', minSize: 1, avgSize: 256, maxSize: 1027 },
  ];

  it('is available here, and cuts at the same points as the JavaScript finder on random data', () => {
    for (const [k, params] of paramSets.entries()) {
      const gear = gearTable(Buffer.alloc(32, 11 + k));
      const js = createCutFinder(params, gear);
      const wasm = createArenaCutFinder(params, gear, 5 << 20);
      expect(wasm.wasm).toBe(true);
      for (const seed of [1, 2, 3]) {
        // Odd sizes and offsets: the unrolled loop's tail handling is exercised at every cut.
        const size = (4 << 20) + seed * 7919;
        const offset = seed * 13;
        const view = wasm.arena.subarray(offset, offset + size);
        view.set(randomBytesSeeded(size, seed * 100 + k));
        const expected = cutsOf(js, Buffer.from(view));
        expect(expected.length).toBeGreaterThan(size / params.maxSize);
        expect(cutsOf(wasm, view)).toEqual(expected);
      }
    }
  });

  it('agrees on inputs near the size bounds and without cut points', () => {
    const gear = gearTable(Buffer.alloc(32, 5));
    const js = createCutFinder(DEFAULT_CHUNKER, gear);
    const wasm = createArenaCutFinder(DEFAULT_CHUNKER, gear, 2 << 20);
    const { minSize, avgSize, maxSize } = DEFAULT_CHUNKER;
    const random = randomBytesSeeded(1 << 20, 77);
    for (const fill of ['zeros', 'random'] as const) {
      const view = wasm.arena.subarray(3, 3 + random.length);
      if (fill === 'zeros') view.fill(0);
      else view.set(random);
      const copy = Buffer.from(view);
      for (const len of [
        0,
        1,
        minSize - 1,
        minSize,
        minSize + 1,
        minSize + 9,
        avgSize - 1,
        avgSize,
        avgSize + 7,
        maxSize - 1,
        maxSize,
        maxSize + 1,
        1 << 20,
      ]) {
        for (const start of [0, 5]) {
          const end = Math.min(start + len, view.length);
          expect(wasm.next(view, start, end), `${fill} ${start}+${len}`).toBe(
            js.next(copy, start, end),
          );
        }
      }
    }
  });

  it('falls back to JavaScript for data outside its arena, and without WebAssembly', () => {
    const gear = gearTable(Buffer.alloc(32, 9));
    const data = randomBytesSeeded(3 << 20, 4);
    const js = cutsOf(createCutFinder(DEFAULT_CHUNKER, gear), data);
    expect(cutsOf(createArenaCutFinder(DEFAULT_CHUNKER, gear, 1 << 20), data)).toEqual(js);
    const plain = createArenaCutFinder(DEFAULT_CHUNKER, gear, 4 << 20, { wasm: false });
    expect(plain.wasm).toBe(false);
    plain.arena.set(data);
    expect(cutsOf(plain, plain.arena.subarray(0, data.length))).toEqual(js);
  });

  it.skipIf(!hasWat2wasm())('gear-wasm.ts holds the compilation of gear.wat', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gear-wat-'));
    try {
      const wat = fileURLToPath(new URL('./wasm/gear.wat', import.meta.url));
      execFileSync('wat2wasm', [wat, '-o', join(dir, 'g.wasm')]);
      expect(readFileSync(join(dir, 'g.wasm')).toString('base64')).toBe(GEAR_WASM_BASE64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasWat2wasm(): boolean {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
