/** The work a chunk worker does, independent of how messages reach it (thread or inline). */
import { closeSync, openSync, readSync } from 'node:fs';
import { createZstdCodec, type Codec } from '../compression.js';
import { contentId, open, sealPayload } from '../crypto.js';
import { IntegrityError } from '../errors.js';
import { createArenaCutFinder, gearTable, StreamChunker, type CutFinder } from '../chunker.js';
import type {
  ChunkRef,
  FromWorker,
  Outgoing,
  SealedBlob,
  ToWorker,
  WorkerInit,
} from './protocol.js';

/** Bytes read from a file per step; between steps the worker answers the main thread. */
const SEGMENT = 4 << 20;
/** Reading pauses while this many bytes of chunks wait for the main thread's verdict. */
const PENDING_LIMIT = 8 << 20;

type Send = (out: Outgoing<FromWorker>) => void;

export class WorkerCore {
  private readonly idKey: Buffer;
  private readonly encKey: Buffer;
  private readonly codec: Codec;
  private readonly finder: CutFinder;
  private readonly jobs = new Map<number, StreamChunker>();
  /** Chunks waiting for the main thread's verdict, with a count per id. */
  private readonly pending = new Map<string, { data: Uint8Array; refs: number }>();
  private readonly files: Array<Extract<ToWorker, { t: 'file' }>> = [];
  private reading = false;
  /** Bytes of chunks held for a verdict; reading pauses above PENDING_LIMIT. */
  private pendingBytes = 0;
  private drainWaiters: Array<() => void> = [];
  /** One read buffer per worker, reused: chunks are copied out of it when held. */
  private readonly readBuffer: Buffer;

  constructor(
    init: WorkerInit,
    private readonly send: Send,
  ) {
    this.idKey = Buffer.from(init.idKey);
    this.encKey = Buffer.from(init.encryptionKey);
    this.codec = createZstdCodec(init.compressionLevel);
    // The read buffer is the finder's arena: in WebAssembly memory, scanned in place.
    const finder = createArenaCutFinder(
      init.chunker,
      gearTable(Buffer.from(init.gearSeed)),
      SEGMENT + init.chunker.maxSize + 1,
    );
    this.finder = finder;
    this.readBuffer = finder.arena;
  }

  handle(msg: ToWorker): void {
    if (msg.t === 'data') this.send(this.data(msg.job, msg.data, msg.final));
    else if (msg.t === 'file') {
      this.files.push(msg);
      if (!this.reading) void this.readFiles();
    } else if (msg.t === 'decode') this.decode(msg);
    else this.resolve(msg.store, msg.drop);
  }

  private decode(msg: Extract<ToWorker, { t: 'decode' }>): void {
    try {
      const plains = msg.blobs.map(({ id, offset, length }) => {
        const what = `blob ${id}`;
        const plain = this.codec.unpack(
          open(this.encKey, msg.data.subarray(offset, offset + length), what),
          what,
        );
        if (contentId(this.idKey, plain) !== id)
          throw new IntegrityError(`${what}: content does not match its id`);
        // Plaintext that is a view of the message's buffer (a raw blob) is copied so it can move.
        return plain.byteOffset === 0 && plain.byteLength === plain.buffer.byteLength
          ? plain
          : Uint8Array.prototype.slice.call(plain);
      });
      this.send({
        msg: { t: 'decoded', req: msg.req, plains },
        transfer: plains.map((p) => p.buffer as ArrayBuffer),
      });
    } catch (err) {
      this.send({
        msg: { t: 'decoded', req: msg.req, plains: [], error: (err as Error).message },
        transfer: [],
      });
    }
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

  /**
   * Hashes chunks and keeps them until the verdict arrives: as views of the message's buffer, or
   * copied out when the bytes live in the reusable read buffer.
   */
  private hold(pieces: Uint8Array[], copy = false): ChunkRef[] {
    return pieces.map((piece) => {
      const id = contentId(this.idKey, piece);
      const held = this.pending.get(id);
      if (held) held.refs++;
      else {
        this.pending.set(id, {
          data: copy ? Uint8Array.prototype.slice.call(piece) : piece,
          refs: 1,
        });
        this.pendingBytes += piece.length;
      }
      return { id, length: piece.length };
    });
  }

  /** Reads queued file regions one after another. */
  private async readFiles(): Promise<void> {
    this.reading = true;
    try {
      while (this.files.length) await this.readRegion(this.files.shift()!);
    } finally {
      this.reading = false;
    }
  }

  /**
   * Reads and chunks one region of a file. The unfinished tail of each segment is carried into
   * the next segment's buffer (no concatenation of whole segments). Before each read, waits
   * while too much data awaits the main thread's verdict: that is the backpressure that keeps
   * memory bounded when storage is slower than reading.
   */
  private async readRegion(req: Extract<ToWorker, { t: 'file' }>): Promise<void> {
    const { job } = req;
    const fail = (err: unknown) =>
      this.send({
        msg: { t: 'chunks', job, chunks: [], final: true, error: (err as Error).message },
        transfer: [],
      });
    let fd: number;
    try {
      fd = openSync(req.path, 'r');
    } catch (err) {
      return fail(err);
    }
    let position = req.offset;
    let remaining = req.length;
    let carried = 0;
    const buf = this.readBuffer;
    try {
      for (;;) {
        while (this.pendingBytes > PENDING_LIMIT)
          await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
        // Sized to what is left, so a small file takes one read; a short read of a regular file
        // means end of file.
        const want = req.toEof
          ? Math.min(SEGMENT, Math.max(remaining, 0) + 1)
          : Math.min(SEGMENT, remaining);
        const n = want > 0 ? readSync(fd, buf, carried, want, position) : 0;
        position += n;
        remaining -= n;
        const end = req.toEof ? n < want : remaining <= 0 || n === 0;
        const length = carried + n;
        const pieces: Uint8Array[] = [];
        let pos = 0;
        for (;;) {
          const len = this.finder.next(buf, pos, length);
          if (len < 0) break;
          pieces.push(buf.subarray(pos, pos + len));
          pos += len;
        }
        if (end && pos < length) pieces.push(buf.subarray(pos, length));
        this.send({
          msg: { t: 'chunks', job, chunks: this.hold(pieces, true), final: end },
          transfer: [],
        });
        if (end) return;
        // The unfinished tail (< maxSize) moves to the front for the next read.
        buf.copyWithin(0, pos, length);
        carried = length - pos;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      fail(err);
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
    if (held && --held.refs <= 0) {
      this.pending.delete(id);
      this.pendingBytes -= held.data.length;
    }
    if (this.pendingBytes <= PENDING_LIMIT && this.drainWaiters.length) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }
}
