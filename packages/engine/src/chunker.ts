/**
 * Content-defined chunking, FastCDC style (Xia et al., 2016): a 32-bit gear rolling hash,
 * normalized chunking with a stricter mask before the average size and a looser one after it,
 * and no hashing of the first `minSize` bytes of a chunk. The gear table is derived from the
 * repository's key, so chunk boundaries (and thus sizes) reveal nothing across repositories.
 */
import { createCipheriv } from 'node:crypto';
import type { ChunkerParams } from './types.js';
import { GEAR_WASM_BASE64 } from './wasm/gear-wasm.js';

export const DEFAULT_CHUNKER: ChunkerParams = {
  algorithm: 'fastcdc-gear32-v1',
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
};

export function validateChunkerParams(p: ChunkerParams): void {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (p.algorithm !== 'fastcdc-gear32-v1') throw new Error(`unknown chunker ${p.algorithm}`);
  if (!pow2(p.avgSize) || p.avgSize < 256 || p.avgSize > 1 << 24) {
    throw new Error('chunker avgSize must be a power of two between 256 B and 16 MiB');
  }
  if (!(p.minSize > 0 && p.minSize < p.avgSize && p.avgSize < p.maxSize)) {
    throw new Error('chunker sizes must satisfy 0 < min < avg < max');
  }
}

/** 256 pseudo-random 32-bit values from AES-CTR under the seed. */
export function gearTable(seed: Buffer): Int32Array {
  const cipher = createCipheriv('aes-256-ctr', seed.subarray(0, 32), Buffer.alloc(16));
  const bytes = cipher.update(Buffer.alloc(256 * 4));
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = bytes.readInt32LE(i * 4);
  return table;
}

/** A mask of `bits` one-bits at the top of a 32-bit word (the bits with the longest history). */
function topBits(bits: number): number {
  return bits >= 32 ? -1 : ~((1 << (32 - bits)) - 1);
}

export interface CutFinder {
  /**
   * Returns the length of the next chunk of `data[start, end)`, or -1 when no cut point exists
   * yet and fewer than `maxSize` bytes are available (more data is needed).
   */
  next(data: Uint8Array, start: number, end: number): number;
  readonly params: ChunkerParams;
}

/** The masks of normalized chunking: stricter before avgSize, looser after it. */
function masks(params: ChunkerParams): { maskS: number; maskL: number } {
  const bits = Math.round(Math.log2(params.avgSize));
  return { maskS: topBits(bits + 2), maskL: topBits(bits - 2) };
}

/** The cut finder in JavaScript: the reference, and the fallback where WebAssembly is unavailable. */
export function createCutFinder(params: ChunkerParams, gear: Int32Array): CutFinder {
  validateChunkerParams(params);
  const { minSize, avgSize, maxSize } = params;
  const { maskS, maskL } = masks(params);
  return {
    params,
    next(data, start, end) {
      const available = end - start;
      if (available <= minSize) return -1;
      const limit = start + Math.min(available, maxSize);
      const normal = start + Math.min(available, avgSize);
      let h = 0;
      let i = start + minSize;
      // Two bytes per iteration (same cut points as one at a time, fewer loop branches).
      for (const last = normal - 1; i < last; i += 2) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & maskS) === 0) return i + 1 - start;
        h = ((h << 1) + gear[data[i + 1]!]!) | 0;
        if ((h & maskS) === 0) return i + 2 - start;
      }
      for (; i < normal; i++) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & maskS) === 0) return i + 1 - start;
      }
      for (const last = limit - 1; i < last; i += 2) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & maskL) === 0) return i + 1 - start;
        h = ((h << 1) + gear[data[i + 1]!]!) | 0;
        if ((h & maskL) === 0) return i + 2 - start;
      }
      for (; i < limit; i++) {
        h = ((h << 1) + gear[data[i]!]!) | 0;
        if ((h & maskL) === 0) return i + 1 - start;
      }
      return limit - start === maxSize ? maxSize : -1;
    },
  };
}

/**
 * A cut finder with a data area (`arena`) to read into: where WebAssembly is available the arena
 * lives in the memory of the WebAssembly finder (wasm/gear.wat), which then scans it in place,
 * about three times as fast as the JavaScript loop. Data outside the arena is scanned by the
 * JavaScript finder; both cut at the same points.
 */
export interface ArenaCutFinder extends CutFinder {
  readonly arena: Buffer;
  /** True when `next` runs WebAssembly on views of the arena. */
  readonly wasm: boolean;
}

/** Gear table bytes at the start of the WebAssembly memory; the arena follows. */
const GEAR_BYTES = 1024;
const WASM_PAGE = 65536;

/** The part of the WebAssembly API used here (@types/node does not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}

let gearModule: object | null | undefined;

/** The compiled module, or null where WebAssembly is unavailable (e.g. node --jitless). */
function wasmModule(): { api: WasmApi; module: object } | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) return null;
  if (gearModule === undefined) {
    try {
      gearModule = new api.Module(Buffer.from(GEAR_WASM_BASE64, 'base64'));
    } catch {
      gearModule = null;
    }
  }
  return gearModule ? { api, module: gearModule } : null;
}

type WasmNext = (
  start: number,
  end: number,
  min: number,
  avg: number,
  max: number,
  maskS: number,
  maskL: number,
) => number;

export function createArenaCutFinder(
  params: ChunkerParams,
  gear: Int32Array,
  arenaBytes: number,
  options: { wasm?: boolean } = {},
): ArenaCutFinder {
  const js = createCutFinder(params, gear);
  const compiled = options.wasm === false ? null : wasmModule();
  if (!compiled) return { ...js, arena: Buffer.allocUnsafeSlow(arenaBytes), wasm: false };
  const { api, module } = compiled;
  const pages = Math.ceil((GEAR_BYTES + arenaBytes) / WASM_PAGE);
  const memory = new api.Memory({ initial: pages, maximum: pages });
  const instance = new api.Instance(module, { env: { memory } });
  const next = instance.exports.next as WasmNext;
  // The memory never grows, so its buffer (and every view of it) stays valid.
  const heap = memory.buffer;
  new Int32Array(heap, 0, 256).set(gear);
  const { minSize, avgSize, maxSize } = params;
  const { maskS, maskL } = masks(params);
  return {
    params,
    arena: Buffer.from(heap, GEAR_BYTES, arenaBytes),
    wasm: true,
    next(data, start, end) {
      if (data.buffer !== heap) return js.next(data, start, end);
      const at = data.byteOffset;
      return next(at + start, at + end, minSize, avgSize, maxSize, maskS, maskL);
    },
  };
}

/**
 * Splits a byte stream fed in arbitrary pieces into chunks. Holds at most one partial chunk
 * (< maxSize) between pushes. Returned chunks are views: copy them if you keep them past the
 * next push.
 */
export class StreamChunker {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly finder: CutFinder) {}

  push(piece: Uint8Array): Buffer[] {
    const data = this.pending.length
      ? Buffer.concat([this.pending, piece])
      : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const chunks: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const len = this.finder.next(data, pos, data.length);
      if (len < 0) break;
      chunks.push(data.subarray(pos, pos + len));
      pos += len;
    }
    this.pending = pos < data.length ? Buffer.from(data.subarray(pos)) : Buffer.alloc(0);
    return chunks;
  }

  /** The final chunk (may be shorter than minSize), or none for an empty remainder. */
  finish(): Buffer[] {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest.length ? [rest] : [];
  }
}
