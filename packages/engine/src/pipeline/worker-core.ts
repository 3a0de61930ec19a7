/** The work a chunk worker does, independent of how messages reach it (thread or inline). */
import { closeSync, openSync, readSync } from 'node:fs';
import { createZstdCodec, type Codec } from '../compression.js';
import { contentId, sealPayload } from '../crypto.js';
import { createCutFinder, gearTable, StreamChunker, type CutFinder } from '../chunker.js';
import type { ChunkRef, FromWorker, Outgoing, SealedBlob, ToWorker, WorkerInit } from './protocol.js';

/** Bytes read from a file per step; between steps the worker answers the main thread. */
const SEGMENT = 4 << 20;

type Send = (out: Outgoing<FromWorker>) => void;

export class WorkerCore {
  private readonly idKey: Buffer;
  private readonly encKey: Buffer;
  private readonly codec: Codec;
  private readonly finder: CutFinder;
  private readonly jobs = new Map<number, StreamChunker>();
  /** Chunks waiting for the main thread's verdict, with a count per id. */
  private readonly pending = new Map<string, { data: Uint8Array; refs: number }>();
  private readonly files: Array<{ job: number; path: string; size: number }> = [];
  private reading = false;

  constructor(
    init: WorkerInit,
    private readonly send: Send,
  ) {
    this.idKey = Buffer.from(init.idKey);
    this.encKey = Buffer.from(init.encryptionKey);
    this.codec = createZstdCodec(init.compressionLevel);
    this.finder = createCutFinder(init.chunker, gearTable(Buffer.from(init.gearSeed)));
  }

  handle(msg: ToWorker): void {
    if (msg.t === 'data') this.send(this.data(msg.job, msg.data, msg.final));
    else if (msg.t === 'file') {
      this.files.push(msg);
      if (!this.reading) void this.readFiles();
    } else this.resolve(msg.store, msg.drop);
  }

  private data(job: number, data: Uint8Array, final: boolean): Outgoing<FromWorker> {
    let chunker = this.jobs.get(job);
    if (!chunker) {
      chunker = new StreamChunker(this.finder);
      this.jobs.set(job, chunker);
    }
    const pieces = data.length ? chunker.push(data) : [];
    if (final) {
      pieces.push(...chunker.finish());
      this.jobs.delete(job);
    }
    return { msg: { t: 'chunks', job, chunks: this.hold(pieces), final }, transfer: [] };
  }

  /** Hashes chunks and keeps them (as views, no copy) until the verdict arrives. */
  private hold(pieces: Uint8Array[]): ChunkRef[] {
    return pieces.map((piece) => {
      const id = contentId(this.idKey, piece);
      const held = this.pending.get(id);
      if (held) held.refs++;
      else this.pending.set(id, { data: piece, refs: 1 });
      return { id, length: piece.length };
    });
  }

  /** Reads queued files one after another, yielding to the event loop between segments. */
  private async readFiles(): Promise<void> {
    this.reading = true;
    try {
      while (this.files.length) {
        const file = this.files.shift()!;
        await this.readFile(file.job, file.path, file.size);
      }
    } finally {
      this.reading = false;
    }
  }

  private async readFile(job: number, path: string, size: number): Promise<void> {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      this.send({ msg: { t: 'chunks', job, chunks: [], final: true, error: (err as Error).message }, transfer: [] });
      return;
    }
    const chunker = new StreamChunker(this.finder);
    let remaining = size;
    try {
      for (;;) {
        // Sized to the file so small files take one read and one small allocation; a short read
        // of a regular file means end of file.
        const want = Math.min(SEGMENT, Math.max(remaining, 0) + 1);
        const buf = Buffer.allocUnsafeSlow(want);
        const n = readSync(fd, buf, 0, want, null);
        remaining -= n;
        const eof = n < want;
        const pieces = n ? chunker.push(buf.subarray(0, n)) : [];
        if (eof) pieces.push(...chunker.finish());
        this.send({ msg: { t: 'chunks', job, chunks: this.hold(pieces), final: eof }, transfer: [] });
        if (eof) return;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.send({ msg: { t: 'chunks', job, chunks: [], final: true, error: (err as Error).message }, transfer: [] });
    } finally {
      closeSync(fd);
    }
  }

  private resolve(store: string[], drop: string[]): void {
    for (const id of drop) this.release(id);
    if (!store.length) return;
    const blobs: SealedBlob[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const id of store) {
      const held = this.pending.get(id);
      if (!held) continue;
      const { codec, body } = this.codec.encode(held.data);
      const sealed = sealPayload(this.encKey, codec, body);
      blobs.push({ id, plainLength: held.data.length, data: sealed });
      transfer.push(sealed.buffer as ArrayBuffer);
      this.release(id);
    }
    this.send({ msg: { t: 'sealed', blobs }, transfer });
  }

  private release(id: string): void {
    const held = this.pending.get(id);
    if (held && --held.refs <= 0) this.pending.delete(id);
  }
}
