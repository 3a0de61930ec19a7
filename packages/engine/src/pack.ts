/**
 * Pack files bundle many sealed blobs into one storage object:
 *
 *   blob_1 ‖ blob_2 ‖ … ‖ blob_n ‖ sealed header ‖ header length (uint32 LE)
 *
 * Each blob is sealed on its own (so one blob can be read with a range request); the header is a
 * sealed JSON array of `[id, type, offset, length, plainLength]` that lets `check` and index
 * repair find every blob without the index.
 */
import type { RepoContext, SealContext } from './context.js';
import { openJson, sealJson } from './context.js';
import { sealedPayloadLength, sealPayloadInto } from './crypto.js';
import { IntegrityError } from './errors.js';
import type { BlobType } from './types.js';
import { paddableBuffer, paddingRoom } from './util/direct-io.js';

export type PackHeaderRow = [
  id: string,
  type: 0 | 1,
  offset: number,
  length: number,
  plain: number,
];

export interface PackedBlob {
  id: string;
  type: BlobType;
  offset: number;
  length: number;
  plainLength: number;
}

export const typeCode = (type: BlobType): 0 | 1 => (type === 'tree' ? 1 : 0);
export const typeName = (code: number): BlobType => (code === 1 ? 'tree' : 'data');

export function packKey(packId: string): string {
  return `data/${packId.slice(0, 2)}/${packId}`;
}

export function packIdFromKey(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Accumulates sealed blobs until the pack is big enough to upload. Blobs are copied into one
 * growing buffer (no list of parts to concatenate at the end, so a pack never exists twice).
 */
export class PackWriter {
  private buf: Buffer;
  private rows: PackHeaderRow[] = [];
  private size = 0;
  /** Buffers of finished packs given back (`recycle`), used before allocating new ones. */
  private readonly spare: ArrayBuffer[] = [];
  /** Buffers this writer allocated and still counts: the one filled, handed-over ones, spares. */
  private buffers = 0;

  /**
   * With `maxBuffers`, the writer allocates at most that many buffers; the buffers of finished
   * packs come back through `recycle`, and `ready` is false while none is at hand. With `aligned`,
   * buffers are aligned memory with room for padding after the pack (util/direct-io.ts), so a
   * finished pack can be written with direct I/O where it lies; such buffers cannot be
   * transferred to another thread (util/direct-io.ts `paddableBuffer`).
   */
  constructor(
    private readonly initialCapacity = 1 << 20,
    private readonly maxBuffers = Infinity,
    private readonly aligned = false,
  ) {
    this.buf = Buffer.allocUnsafe(0);
  }

  /** False while a new pack needs a buffer and every one this writer may have is away. */
  get ready(): boolean {
    return this.buf.length > 0 || this.spare.length > 0 || this.buffers < this.maxBuffers;
  }

  /** Takes back the buffer of a pack this writer finished, once nobody uses it any more. */
  recycle(buffer: ArrayBuffer): void {
    this.spare.push(buffer);
  }

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.rows.length;
  }

  /** Adds a blob sealed elsewhere (copied in). */
  add(id: string, type: BlobType, sealed: Uint8Array, plainLength: number): void {
    this.reserve(sealed.length);
    this.buf.set(sealed, this.size);
    this.rows.push([id, typeCode(type), this.size, sealed.length, plainLength]);
    this.size += sealed.length;
  }

  /** Seals `codec ‖ body` straight into the pack (no intermediate sealed buffer). */
  addPayload(
    id: string,
    type: BlobType,
    key: Buffer,
    codec: number,
    body: Uint8Array,
    plainLength: number,
  ): void {
    this.reserve(sealedPayloadLength(body.length));
    const length = sealPayloadInto(key, codec, body, this.buf, this.size);
    this.rows.push([id, typeCode(type), this.size, length, plainLength]);
    this.size += length;
  }

  /** Returns the pack's bytes and its blobs, and resets the writer. */
  finish(ctx: SealContext): { data: Buffer; blobs: PackedBlob[] } {
    const { data, rows } = this.finishRows(ctx);
    return { data, blobs: rows.map(packedBlob) };
  }

  /**
   * Like `finish`, with the header rows instead of blob objects. `data` is a view of a buffer of
   * its own (starting at offset 0), so it can be transferred to another thread.
   */
  finishRows(ctx: SealContext): { data: Buffer; rows: PackHeaderRow[] } {
    const header = sealJson(ctx, this.rows);
    this.reserve(header.length + 4);
    header.copy(this.buf, this.size);
    this.buf.writeUInt32LE(header.length, this.size + header.length);
    const data = this.buf.subarray(0, this.size + header.length + 4);
    const rows = this.rows;
    this.buf = Buffer.allocUnsafe(0);
    this.rows = [];
    this.size = 0;
    return { data, rows };
  }

  private reserve(extra: number): void {
    const need = this.size + extra;
    if (need <= this.buf.length) return;
    if (this.buf.length === 0) {
      const spare = this.spare.pop();
      const room = spare ? spare.byteLength - paddingRoom(spare) : 0;
      if (spare && room >= need) {
        this.buf = Buffer.from(spare, 0, room);
        return;
      }
      // A new buffer, unless a spare too small for this blob is replaced by a larger one.
      if (!spare) this.buffers++;
    }
    const grown = this.allocate(Math.max(need, this.initialCapacity, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }

  private allocate(bytes: number): Buffer {
    return (this.aligned && paddableBuffer(bytes)) || Buffer.allocUnsafeSlow(bytes);
  }
}

export function packedBlob([id, t, offset, length, plainLength]: PackHeaderRow): PackedBlob {
  return { id, type: typeName(t), offset, length, plainLength };
}

/** Reads a pack's header: from the whole pack bytes, or from storage with two range reads. */
export async function readPackHeader(
  ctx: RepoContext,
  packId: string,
  size?: number,
): Promise<PackedBlob[]> {
  const key = packKey(packId);
  const total = size ?? (await ctx.storage.stat(key)).size;
  if (total < 4) throw new IntegrityError(`pack ${packId}: too short`);
  const len = (await ctx.storage.get(key, { offset: total - 4, length: 4 })).readUInt32LE(0);
  if (len + 4 > total) throw new IntegrityError(`pack ${packId}: header length out of range`);
  const sealed = await ctx.storage.get(key, { offset: total - 4 - len, length: len });
  return parseHeader(ctx, packId, sealed, total - 4 - len);
}

export function parseHeaderFromPack(ctx: RepoContext, packId: string, data: Buffer): PackedBlob[] {
  if (data.length < 4) throw new IntegrityError(`pack ${packId}: too short`);
  const len = data.readUInt32LE(data.length - 4);
  if (len + 4 > data.length) throw new IntegrityError(`pack ${packId}: header length out of range`);
  const start = data.length - 4 - len;
  return parseHeader(ctx, packId, data.subarray(start, data.length - 4), start);
}

function parseHeader(
  ctx: RepoContext,
  packId: string,
  sealed: Uint8Array,
  headerStart: number,
): PackedBlob[] {
  const rows = openJson<PackHeaderRow[]>(ctx, sealed, `pack ${packId} header`);
  if (!Array.isArray(rows)) throw new IntegrityError(`pack ${packId}: header is not a list`);
  return rows.map(([id, t, offset, length, plainLength]) => {
    if (offset < 0 || offset + length > headerStart) {
      throw new IntegrityError(`pack ${packId}: blob ${id} lies outside the pack`);
    }
    return { id, type: typeName(t), offset, length, plainLength };
  });
}
