/** The work a chunk worker does, independent of how messages reach it (thread or inline). */
import { closeSync, openSync, readSync } from 'node:fs';
import { createArenaCutFinder, gearTable, type ArenaCutFinder } from '../chunker.js';
import { createZstdCodec, type Codec } from '../compression.js';
import { contentId, randomId } from '../crypto.js';
import { EngineError, IntegrityError } from '../errors.js';
import { packKey, PackWriter } from '../pack.js';
import { LocalStorage } from '../storage/local.js';
import { O_DIRECT } from '../util/direct-io.js';
import { gcNudger } from './gc-nudge.js';
import { SpanWriter } from './span-writer.js';
import type {
  ChunkRef,
  ChunkResult,
  FromWorker,
  Outgoing,
  SpanRequest,
  ToWorker,
  WorkerInit,
} from './protocol.js';

/** Bytes read from a file per step; between steps the worker answers the main thread. */
const SEGMENT = 2 << 20;
/**
 * The arena (the chunk finder's memory) is cut into this many slots of a segment plus a maximal
 * chunk each. Chunks stay where they were read until the main thread's verdict; a slot is reused
 * once none of its chunks is held, and reading waits for a free slot: that is the backpressure
 * that keeps memory bounded when storage is slower than reading.
 */
const SLOTS = 4;
/**
 * Plaintext bytes sealed in one turn of the event loop; the rest waits for the next turn, so the
 * steps of a pack being stored, and the main thread's verdicts, are not held up behind a long run
 * of sealing (a worker that waits for a pack buffer to come back idles).
 */
const SEAL_TURN = 256 << 10;
/** What sealing a blob costs besides its bytes, counted as bytes (for turns of small blobs). */
const BLOB_COST = 4 << 10;
/** Chunk results are handed over at least every this many results. */
const MAX_RESULTS = 64;
/**
 * Pack buffers a worker owns: one being filled, one uploading (or being stored). Sealing waits for
 * a buffer to come back (and chunks stay held, so reading waits too) rather than allocating more.
 */
const PACK_BUFFERS = 2;

type Send = (out: Outgoing<FromWorker>) => void;
type FileWork = Extract<ToWorker, { t: 'file' }>;
type DataWork = Extract<ToWorker, { t: 'data' }>;

interface Slot {
  /** Arena offset of the slot. */
  start: number;
  /** Bytes of the slot in use (from `start`) while it is the slot being filled. */
  used: number;
  /** Held chunks lying in the slot. */
  refs: number;
}

interface Held {
  data: Uint8Array;
  refs: number;
  slot: Slot;
}

export class WorkerCore {
  private readonly idKey: Buffer;
  private readonly encKey: Buffer;
  private readonly codec: Codec;
  private readonly finder: ArenaCutFinder;
  private readonly arena: Buffer;
  private readonly slotSize: number;
  private readonly slots: Slot[];
  private fill: Slot;
  private slotWaiters: Array<() => void> = [];
  /** Chunks waiting for the main thread's verdict, with a count per id. */
  private readonly pending = new Map<string, Held>();
  /** The unfinished last chunk of each open stream job, carried to its next piece. */
  private readonly tails = new Map<number, Buffer>();
  private readonly queue: Array<FileWork | DataWork> = [];
  private running = false;
  private closed = false;
  private results: ChunkResult[] = [];
  private readonly packer: PackWriter;
  private readonly packSize: number;
  private spanWriter?: SpanWriter;
  /** Restore work, one message after another (a span's writes finish before the next starts). */
  private restoring: Promise<unknown> = Promise.resolve();
  /** New chunks to seal once a pack buffer is at hand. */
  private waitingStores: string[] = [];
  /** Sealing goes on in the next turn (SEAL_TURN). */
  private sealScheduled = false;
  private flushRequested = false;
  /** Where this worker stores its packs itself (WorkerInit.packStore). */
  private readonly store?: LocalStorage;
  /** Packs being stored, and the answer (`flushed`, `drained`) waiting for them. */
  private storing = 0;
  private answerWhenStored?: 'flushed' | 'drained';
  private readonly nudge = gcNudger();

  constructor(
    init: WorkerInit,
    private readonly send: Send,
  ) {
    this.idKey = Buffer.from(init.idKey);
    this.encKey = Buffer.from(init.encryptionKey);
    this.codec = createZstdCodec(init.compressionLevel);
    // A slot holds a segment, the unfinished chunk carried before it and one byte to see EOF.
    this.slotSize = SEGMENT + init.chunker.maxSize + 1;
    this.finder = createArenaCutFinder(
      init.chunker,
      gearTable(Buffer.from(init.gearSeed)),
      this.slotSize * SLOTS,
    );
    this.arena = this.finder.arena;
    this.slots = Array.from({ length: SLOTS }, (_, k) => ({
      start: k * this.slotSize,
      used: 0,
      refs: 0,
    }));
    this.fill = this.slots[0]!;
    this.packSize = init.packSize;
    const { packStore } = init;
    if (packStore) this.store = new LocalStorage(packStore.root, packStore);
    // A pack this worker stores itself is written from its buffer: aligned for direct I/O.
    this.packer = new PackWriter(
      init.packSize + init.chunker.maxSize + (1 << 20),
      PACK_BUFFERS,
      !!packStore?.directWrites && O_DIRECT !== 0,
    );
  }

  handle(batch: ToWorker[]): void {
    for (const msg of batch) {
      if (msg.t === 'file' || msg.t === 'data') {
        this.queue.push(msg);
        if (!this.running) void this.run();
      } else if (msg.t === 'resolve') this.resolve(msg.store, msg.drop);
      else if (msg.t === 'flush') {
        this.flushRequested = true;
        this.sealWaiting();
      } else if (msg.t === 'recycle') {
        this.packer.recycle(msg.buffer);
        this.sealWaiting();
      } else if (msg.t === 'drain') {
        this.closed = true;
        this.waitingStores = [];
        this.answer('drained');
      } else if (msg.t === 'files') {
        const { files, maxOpenFiles, direct } = msg;
        this.queueRestore(() => this.restorer().setFiles(files, maxOpenFiles, direct));
      } else if (msg.t === 'span') this.queueRestore(() => this.span(msg));
    }
  }

  close(): void {
    this.closed = true;
  }

  /** Runs restore work after the work queued before it; a failure is reported as an error. */
  private queueRestore(work: () => unknown): void {
    this.restoring = this.restoring
      .then(work)
      .catch((err: unknown) =>
        this.send({ msg: { t: 'error', message: (err as Error).message }, transfer: [] }),
      );
  }

  /** Restores one span (restore work); answers with its bytes or its error. Never rejects. */
  private async span(req: SpanRequest): Promise<void> {
    try {
      const bytes = await this.restorer().write(req);
      this.send({ msg: { t: 'span', req: req.req, bytes }, transfer: [] });
    } catch (err) {
      const { message, code } = err as { message: string; code?: unknown };
      const integrity = err instanceof IntegrityError;
      this.send({
        msg: {
          t: 'span',
          req: req.req,
          bytes: 0,
          error: {
            message: integrity ? message.replace(/^integrity check failed: /, '') : message,
            integrity,
            ...(!integrity && typeof code === 'string' ? { code } : {}),
          },
        },
        transfer: [],
      });
    }
  }

  private restorer(): SpanWriter {
    this.spanWriter ??= new SpanWriter(this.idKey, this.encKey);
    return this.spanWriter;
  }

  /** Works through queued file regions and stream pieces, one after another. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length && !this.closed) {
        const work = this.queue.shift()!;
        if (work.t === 'file') await this.readRegion(work);
        else await this.feed(work);
        if (!this.queue.length || this.results.length >= MAX_RESULTS) await this.yieldTurn();
      }
    } catch (err) {
      this.send({ msg: { t: 'error', message: (err as Error).message }, transfer: [] });
    } finally {
      this.running = false;
      this.flushResults();
    }
  }

  /** Hands over the chunk results gathered so far. */
  private flushResults(): void {
    if (!this.results.length) return;
    const results = this.results;
    this.results = [];
    this.send({ msg: { t: 'chunks', results }, transfer: [] });
  }

  /** Hands over the results and lets the main thread's messages (verdicts) in. */
  private async yieldTurn(): Promise<void> {
    this.flushResults();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Reserves `n` contiguous arena bytes (n ≤ slotSize) in the slot being filled, or in a free
   * slot; waits for the verdicts that free one if there is none.
   */
  private async reserve(n: number): Promise<{ slot: Slot; at: number }> {
    for (;;) {
      const fill = this.fill;
      if (fill.refs === 0) fill.used = 0;
      if (fill.used + n <= this.slotSize) {
        const at = fill.start + fill.used;
        fill.used += n;
        return { slot: fill, at };
      }
      const free = this.slots.find((s) => s !== fill && s.refs === 0);
      if (free) {
        free.used = 0;
        this.fill = free;
        continue;
      }
      this.flushResults();
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
  }

  /**
   * Cuts `[at, at + length)` of the arena into chunks, holds them and queues their result.
   * With `final`, the rest after the last cut is the job's last chunk. Returns the bytes cut.
   */
  private cut(job: number, slot: Slot, at: number, length: number, final: boolean): number {
    const arena = this.arena;
    const end = at + length;
    const chunks: ChunkRef[] = [];
    let pos = at;
    for (;;) {
      const len = this.finder.next(arena, pos, end);
      if (len < 0) break;
      chunks.push(this.hold(arena.subarray(pos, pos + len), slot));
      pos += len;
    }
    if (final && pos < end) {
      chunks.push(this.hold(arena.subarray(pos, end), slot));
      pos = end;
    }
    this.results.push({ job, chunks, final });
    return pos - at;
  }

  /** Hashes a chunk and keeps it (where it lies in the arena) until the verdict arrives. */
  private hold(piece: Buffer, slot: Slot): ChunkRef {
    const id = contentId(this.idKey, piece);
    const held = this.pending.get(id);
    if (held) held.refs++;
    else {
      this.pending.set(id, { data: piece, refs: 1, slot });
      slot.refs++;
    }
    return { id, length: piece.length };
  }

  /**
   * Chunks one piece of a stream job: the carried unfinished chunk and the piece are copied into
   * the arena (in parts of at most a segment), cut there, and the new unfinished rest is kept.
   */
  private async feed(work: DataWork): Promise<void> {
    const { job, data, final } = work;
    let tail = this.tails.get(job);
    this.tails.delete(job);
    let pos = 0;
    do {
      const carried = tail?.length ?? 0;
      const take = Math.min(data.length - pos, SEGMENT);
      const { slot, at } = await this.reserve(carried + take);
      if (tail) this.arena.set(tail, at);
      this.arena.set(data.subarray(pos, pos + take), at + carried);
      pos += take;
      const last = final && pos === data.length;
      const done = this.cut(job, slot, at, carried + take, last);
      // Not held: reusable slot space.
      slot.used -= carried + take - done;
      tail =
        done < carried + take
          ? Buffer.from(this.arena.subarray(at + done, at + carried + take))
          : undefined;
    } while (pos < data.length);
    if (tail) this.tails.set(job, tail);
  }

  /**
   * Reads and chunks one region of a file, a segment at a time, straight into the arena. The
   * unfinished chunk at the end of each segment moves in front of the next one.
   */
  private async readRegion(req: FileWork): Promise<void> {
    const { job } = req;
    const fail = (err: unknown): void => {
      this.results.push({ job, chunks: [], final: true, error: (err as Error).message });
    };
    let fd: number;
    try {
      fd = openSync(req.path, 'r');
    } catch (err) {
      return fail(err);
    }
    let position = req.offset;
    let remaining = req.length;
    let carriedAt = 0;
    let carried = 0;
    try {
      for (;;) {
        // Sized to what is left, so a small file takes one read; a short read of a regular file
        // means end of file.
        const want = req.toEof
          ? Math.min(SEGMENT, Math.max(remaining, 0) + 1)
          : Math.min(SEGMENT, remaining);
        const { slot, at } = await this.reserve(carried + want);
        if (carried) this.arena.copyWithin(at, carriedAt, carriedAt + carried);
        const n = want > 0 ? readSync(fd, this.arena, at + carried, want, position) : 0;
        position += n;
        remaining -= n;
        const end = req.toEof ? n < want : remaining <= 0 || n === 0;
        const length = carried + n;
        const done = this.cut(job, slot, at, length, end);
        // The unfinished rest stays where it is until it moves in front of the next segment.
        slot.used -= carried + want - length;
        if (end) return;
        carriedAt = at + done;
        carried = length - done;
        await this.yieldTurn();
      }
    } catch (err) {
      fail(err);
    } finally {
      closeSync(fd);
    }
  }

  /** The main thread's verdict: known chunks are dropped, new ones sealed into the pack. */
  private resolve(store: string[], drop: string[]): void {
    for (const id of drop) this.release(id);
    for (const id of store) this.waitingStores.push(id);
    this.sealWaiting();
  }

  /**
   * Seals the new chunks while a pack buffer is at hand, SEAL_TURN bytes per turn; then answers a
   * pending flush.
   */
  private sealWaiting(): void {
    if (this.closed || this.sealScheduled) return;
    let next = 0;
    let sealed = 0;
    for (; next < this.waitingStores.length && this.packer.ready; next++) {
      if (sealed >= SEAL_TURN) {
        this.sealScheduled = true;
        setImmediate(() => {
          this.sealScheduled = false;
          this.outsideHandle(() => this.sealWaiting());
        });
        break;
      }
      const id = this.waitingStores[next]!;
      const held = this.pending.get(id);
      if (!held) continue;
      sealed += held.data.length + BLOB_COST;
      const { codec, body } = this.codec.encode(held.data);
      this.packer.addPayload(id, 'data', this.encKey, codec, body, held.data.length);
      this.nudge(body.length);
      this.release(id);
      if (this.packer.bytes >= this.packSize) this.handOverPack();
    }
    this.waitingStores = next ? this.waitingStores.slice(next) : this.waitingStores;
    if (this.flushRequested && !this.waitingStores.length) {
      this.flushRequested = false;
      this.flush();
    }
  }

  private flush(): void {
    if (this.packer.count) this.handOverPack();
    this.answer('flushed');
  }

  /**
   * Runs work that is not part of a message's handling (a scheduled turn, a store's completion):
   * an exception ends this core, reported as `handle`'s would be (worker-thread.ts).
   */
  private outsideHandle(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.closed = true;
      const message = err instanceof Error ? err.message : String(err);
      this.send({ msg: { t: 'error', message, exited: true }, transfer: [] });
    }
  }

  /** Sends `flushed` or `drained` now, or once the packs being stored are stored. */
  private answer(t: 'flushed' | 'drained'): void {
    this.answerWhenStored = t;
    this.answerIfStored();
  }

  private answerIfStored(): void {
    const t = this.answerWhenStored;
    if (!t || this.storing) return;
    this.answerWhenStored = undefined;
    this.send({ msg: { t }, transfer: [] });
  }

  /** Hands the finished pack over to the main thread, or stores it (`store`). */
  private handOverPack(): void {
    const { data, rows } = this.packer.finishRows({
      keys: { encryption: this.encKey },
      codec: this.codec,
    });
    if (!this.store) {
      this.send({ msg: { t: 'pack', data, rows }, transfer: [data.buffer as ArrayBuffer] });
      return;
    }
    const id = randomId();
    this.storing++;
    void this.store
      .put(packKey(id), data)
      .then(
        () => this.send({ msg: { t: 'stored', id, rows, bytes: data.length }, transfer: [] }),
        (err: unknown) => {
          const code = err instanceof EngineError ? err.code : undefined;
          const message = err instanceof Error ? err.message : String(err);
          this.send({ msg: { t: 'error', message, ...(code ? { code } : {}) }, transfer: [] });
        },
      )
      .finally(() => {
        this.storing--;
        this.packer.recycle(data.buffer as ArrayBuffer);
        this.answerIfStored();
        this.outsideHandle(() => this.sealWaiting());
      });
  }

  private release(id: string): void {
    const held = this.pending.get(id);
    if (!held || --held.refs > 0) return;
    this.pending.delete(id);
    if (--held.slot.refs === 0 && this.slotWaiters.length) {
      const waiters = this.slotWaiters;
      this.slotWaiters = [];
      for (const w of waiters) w();
    }
  }
}
