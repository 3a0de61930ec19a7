/**
 * Direct I/O (`O_DIRECT`, Linux): writes that go from the process's memory to the device without
 * passing through the page cache. The memory, the file offset and the length must all be
 * multiples of the device's logical block size; 4096 covers every common device.
 */
import { constants, readFileSync } from 'node:fs';

/** Alignment of memory, offsets and lengths of direct writes. */
export const DIRECT_ALIGN = 4096;

/**
 * The kernel's page size (4 KiB on most machines; 16 or 64 KiB on some arm64 and ppc64 kernels),
 * from the process's auxiliary vector; 64 KiB where it cannot be read.
 */
export const PAGE_SIZE = readPageSize();

function readPageSize(): number {
  const AT_PAGESZ = 6n;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let at = 0; at + 16 <= auxv.length; at += 16) {
      const type = auxv.readBigUInt64LE(at);
      if (type === 0n) break;
      if (type === AT_PAGESZ) return Number(auxv.readBigUInt64LE(at + 8));
    }
  } catch {
    // not Linux, or no /proc
  }
  return 64 << 10;
}

/** The open flag, or 0 where the platform has none (then nothing is written directly). */
export const O_DIRECT: number = (constants as { O_DIRECT?: number }).O_DIRECT ?? 0;

const WASM_PAGE = 65536;

/** The part of the WebAssembly API used here (@types/node does not declare it). */
type MemoryApi = new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer };

/**
 * A zero-filled buffer of at least `bytes` bytes whose memory starts on a page boundary, or
 * undefined where WebAssembly is unavailable (e.g. `node --jitless`). The memory of a WebAssembly
 * instance is a mapping of its own, so it starts on a page (Node gives no other way to choose the
 * alignment of a buffer).
 */
export function alignedBuffer(bytes: number): Buffer | undefined {
  const Memory = (globalThis as { WebAssembly?: { Memory: MemoryApi } }).WebAssembly?.Memory;
  if (!Memory) return undefined;
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  try {
    return Buffer.from(new Memory({ initial: pages, maximum: pages }).buffer);
  } catch (err) {
    if (err instanceof RangeError) return undefined; // no memory for it: write through the cache
    throw err;
  }
}

/** The memories of `paddableBuffer`s. */
const paddable = new WeakSet<ArrayBufferLike>();

/**
 * An aligned buffer of at least `bytes` bytes whose memory has DIRECT_ALIGN spare bytes after
 * it, which a direct write of data from it may overwrite with padding (DirectPut writes such data
 * where it lies); undefined where there is no aligned memory.
 */
export function paddableBuffer(bytes: number): Buffer | undefined {
  const memory = alignedBuffer(bytes + DIRECT_ALIGN);
  if (!memory) return undefined;
  paddable.add(memory.buffer);
  return memory.subarray(0, memory.length - DIRECT_ALIGN);
}

/** The spare bytes at the end of `memory`: DIRECT_ALIGN for a `paddableBuffer`'s, else 0. */
export function paddingRoom(memory: ArrayBufferLike): number {
  return paddable.has(memory) ? DIRECT_ALIGN : 0;
}

/**
 * Whether `data` can be written directly where it lies: it starts on a block boundary of a
 * `paddableBuffer`'s memory (whose spare bytes leave room to pad it to whole blocks).
 */
export function writableInPlace(data: Uint8Array): boolean {
  return (
    paddable.has(data.buffer) &&
    data.byteOffset % DIRECT_ALIGN === 0 &&
    data.byteOffset + roundUp(data.length) <= data.buffer.byteLength
  );
}

/** `n` rounded up to whole blocks of DIRECT_ALIGN bytes. */
export function roundUp(n: number): number {
  return Math.ceil(n / DIRECT_ALIGN) * DIRECT_ALIGN;
}

/**
 * The whole blocks of `block` bytes (a multiple of DIRECT_ALIGN) inside `[start, end)`, as
 * `[from, to)`, or undefined when they add up to less than `min` bytes.
 */
export function alignedInterior(
  start: number,
  end: number,
  min: number,
  block = DIRECT_ALIGN,
): [number, number] | undefined {
  const from = Math.ceil(start / block) * block;
  const to = Math.floor(end / block) * block;
  return to - from >= Math.max(min, block) ? [from, to] : undefined;
}

/** The bytes `[from, to)` of the concatenation of `parts`, as views of them (no copy). */
export function sliceParts(parts: readonly Buffer[], from: number, to: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const part of parts) {
    const end = at + part.length;
    if (end > from && at < to)
      out.push(part.subarray(Math.max(0, from - at), Math.min(part.length, to - at)));
    at = end;
    if (at >= to) break;
  }
  return out;
}
