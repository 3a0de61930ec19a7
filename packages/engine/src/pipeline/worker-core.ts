/** The work a chunk worker does, independent of how messages reach it (thread or inline). */
import { createZstdCodec, type Codec } from '../compression.js';
import { contentId, seal } from '../crypto.js';
import { createCutFinder, gearTable, StreamChunker } from '../chunker.js';
import type { ChunkRef, FromWorker, Outgoing, SealedBlob, ToWorker, WorkerInit } from './protocol.js';

export class WorkerCore {
  private readonly idKey: Buffer;
  private readonly encKey: Buffer;
  private readonly codec: Codec;
  private readonly finder;
  private readonly jobs = new Map<number, StreamChunker>();
  /** Chunks waiting for the main thread's verdict, with a count per id. */
  private readonly pending = new Map<string, { data: Buffer; refs: number }>();

  constructor(init: WorkerInit) {
    this.idKey = Buffer.from(init.idKey);
    this.encKey = Buffer.from(init.encryptionKey);
    this.codec = createZstdCodec(init.compressionLevel);
    this.finder = createCutFinder(init.chunker, gearTable(Buffer.from(init.gearSeed)));
  }

  handle(msg: ToWorker): Outgoing<FromWorker>[] {
    return msg.t === 'data' ? [this.data(msg.job, msg.data, msg.final)] : this.resolve(msg.store, msg.drop);
  }

  private data(job: number, data: Uint8Array, final: boolean): Outgoing<FromWorker> {
    let chunker = this.jobs.get(job);
    if (!chunker) {
      chunker = new StreamChunker(this.finder);
      this.jobs.set(job, chunker);
    }
    const pieces = chunker.push(data);
    if (final) {
      pieces.push(...chunker.finish());
      this.jobs.delete(job);
    }
    const chunks: ChunkRef[] = pieces.map((piece) => {
      const id = contentId(this.idKey, piece);
      const held = this.pending.get(id);
      if (held) held.refs++;
      else this.pending.set(id, { data: Buffer.from(piece), refs: 1 });
      return { id, length: piece.length };
    });
    return { msg: { t: 'chunks', job, chunks, final }, transfer: [] };
  }

  private resolve(store: string[], drop: string[]): Outgoing<FromWorker>[] {
    for (const id of drop) this.release(id);
    if (!store.length) return [];
    const blobs: SealedBlob[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const id of store) {
      const held = this.pending.get(id);
      if (!held) continue;
      const sealed = seal(this.encKey, this.codec.pack(held.data));
      const own = new Uint8Array(sealed.length);
      own.set(sealed);
      blobs.push({ id, plainLength: held.data.length, data: own });
      transfer.push(own.buffer);
      this.release(id);
    }
    return [{ msg: { t: 'sealed', blobs }, transfer }];
  }

  private release(id: string): void {
    const held = this.pending.get(id);
    if (held && --held.refs <= 0) this.pending.delete(id);
  }
}
