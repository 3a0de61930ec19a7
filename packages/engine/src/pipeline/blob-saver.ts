/**
 * Saves blobs into the repository: chunk work is spread over worker threads, which read, cut,
 * hash and — once this thread, which owns the index, has said which chunks are new — compress,
 * seal and pack them; whole packs come back here and are uploaded concurrently, or, in a
 * directory repository, the workers store them themselves (no copy, no hand-over) and report
 * them; index files are written as packs land. Memory is bounded by `maxInFlightBytes` (stream
 * data handed to workers and not yet given a verdict), the workers' fixed read arenas, and a few
 * packs (verdicts are held back while a finished pack waits for an upload slot), whatever the
 * size of the data.
 */
import type { Repository } from '../repository.js';
import { contentId, randomId } from '../crypto.js';
import { EngineError } from '../errors.js';
import { packedBlob, packKey, PackWriter, type PackedBlob } from '../pack.js';
import { indexFileFrom, writeIndexFile } from '../repo-index.js';
import type { BlobType } from '../types.js';
import { defaultWorkers, startEndpoints, type Endpoint } from './endpoints.js';
import { workerInit, type ChunkResult, type FromWorker } from './protocol.js';

export interface SaverOptions {
  /** Worker threads; 0 runs chunk work inline. Default: one per CPU (at most 4). */
  workers?: number;
  maxInFlightBytes?: number;
  uploadConcurrency?: number;
  /** Write an index file after this many packs, default 4 (so interrupted work is reusable). */
  indexEveryPacks?: number;
}

export interface SaverStats {
  /** Data blobs (file and item content) added, and their plaintext bytes. */
  blobsAdded: number;
  bytesAdded: number;
  /** Tree blobs (directory listings, item lists) added, and their plaintext bytes. */
  treeBlobsAdded: number;
  treeBytesAdded: number;
  /** Bytes written to storage: packs of both kinds, compressed and encrypted. */
  storedBytesAdded: number;
}

export interface SavedContent {
  content: string[];
  size: number;
}

interface Job {
  endpoint: Lane;
  /** The caller gave up on the job (its stream failed): its chunks are dropped as they come. */
  canceled?: boolean;
  /** File jobs: bytes are counted in flight when the worker reports them, not when sent. */
  countOnReceive: boolean;
  /** Bytes this job still adds to its lane's load. */
  loadLeft: number;
  content: string[];
  size: number;
  onBytes?: (n: number) => void;
  resolve(result: SavedContent): void;
  reject(err: Error): void;
}

interface Lane {
  endpoint: Endpoint;
  load: number;
  /** The worker answered `drain`, or its thread is gone. */
  drained?: boolean;
}

const MiB = 1 << 20;
/** Files are chunked in independent regions of this size (see saveFile). */
export const FILE_REGION = 16 * MiB;
/** An index file is written at least this often while packs are uploaded. */
const INDEX_INTERVAL_MS = 10_000;

export class BlobSaver {
  readonly stats: SaverStats = {
    blobsAdded: 0,
    bytesAdded: 0,
    treeBlobsAdded: 0,
    treeBytesAdded: 0,
    storedBytesAdded: 0,
  };
  private readonly lanes: Lane[] = [];
  private readonly jobs = new Map<number, Job>();
  private readonly claimed = new Set<string>();
  private readonly packers: Record<BlobType, PackWriter>;
  private readonly uploads = new Set<Promise<void>>();
  private readonly indexWrites = new Set<Promise<void>>();
  private unindexed: Array<{ id: string; blobs: PackedBlob[] }> = [];
  /** Finished packs waiting for an upload slot; `lane`: the worker that made it. */
  private queued: Array<{ data: Buffer; blobs: PackedBlob[]; lane?: Lane }> = [];
  private queuedBytes = 0;
  /** Verdicts held back while a finished pack waits for an upload slot. */
  private deferred: Array<{ lane: Lane; store: string[]; bytes: number }> = [];
  /** Workers that have not yet answered the `flush` request. */
  private flushing = 0;
  /** Whether the workers store their packs themselves (a directory repository). */
  private readonly workersStore: boolean;
  private lastIndexWrite = Date.now();
  /** Waits for a condition (`waitFor`), woken when it holds. */
  private waiters: Array<{ ready: () => boolean; resume: () => void }> = [];
  private nextJob = 1;
  /** Plaintext bytes handed to (or read by) workers and not yet given a verdict. */
  private inFlight = 0;
  private failure?: Error;
  private readonly maxInFlight: number;
  private readonly uploadConcurrency: number;
  private readonly indexEvery: number;

  constructor(
    private readonly repo: Repository,
    options: SaverOptions = {},
  ) {
    this.maxInFlight = options.maxInFlightBytes ?? 32 * MiB;
    this.uploadConcurrency = options.uploadConcurrency ?? 2;
    this.indexEvery = options.indexEveryPacks ?? 4;
    // Data blobs sealed here (copies from another repository) and trees; the workers pack the
    // data they chunk themselves.
    this.packers = {
      data: new PackWriter(repo.config.packSize + (1 << 20)),
      tree: new PackWriter(),
    };
    const count = options.workers ?? defaultWorkers();
    const packStore = repo.storage.threadWrites?.();
    this.workersStore = !!packStore;
    const endpoints = startEndpoints(
      { ...workerInit(repo), ...(packStore ? { packStore } : {}) },
      count,
      (msg, k) => this.receive(msg, this.lanes[k]!),
      repo.spareThreads,
    );
    for (const endpoint of endpoints) this.lanes.push({ endpoint, load: 0 });
  }

  /**
   * Chunks and saves a byte stream; resolves with its blob ids once all of it is chunked.
   * With `owned`, the pieces are whole buffers the caller hands over (they are transferred to a
   * worker thread and become unusable); otherwise they are copied.
   */
  async saveStream(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    options: { onBytes?: (n: number) => void; owned?: boolean } = {},
  ): Promise<SavedContent> {
    this.assertUsable();
    const { lane, job, result } = this.newJob(false, options.onBytes);
    const send = (piece: Uint8Array, final: boolean) => {
      const own = options.owned ? piece : new Uint8Array(piece);
      this.inFlight += own.byteLength;
      lane.load += own.byteLength;
      this.jobs.get(job)!.loadLeft += own.byteLength;
      lane.endpoint.post({ t: 'data', job, data: own, final }, [own.buffer as ArrayBuffer]);
    };
    try {
      // One piece of look-ahead, so the last piece carries the final flag (one message less).
      let previous: Uint8Array | undefined;
      for await (const piece of source) {
        if (!piece.byteLength) continue;
        if (previous) send(previous, false);
        await this.waitForCapacity();
        previous = piece;
      }
      send(previous ?? new Uint8Array(0), true);
    } catch (err) {
      const pending = this.jobs.get(job);
      if (pending) {
        pending.reject(err as Error);
        // The worker still finishes the job (so it lets go of its chunks), and its chunks are
        // dropped as they come.
        pending.canceled = true;
        lane.endpoint.post({ t: 'data', job, data: new Uint8Array(0), final: true });
      }
      throw err;
    }
    return result;
  }

  /**
   * Saves a file read by worker threads (no file data crosses to this thread). Files larger than
   * a region are cut into regions chunked independently by whichever worker is least busy, so
   * one big file uses every core; a chunk never spans a region boundary (docs/format.md).
   * Rejects with the read error if the file cannot be read.
   */
  async saveFile(path: string, size: number, onBytes?: (n: number) => void): Promise<SavedContent> {
    this.assertUsable();
    await this.waitForCapacity();
    const regions = Math.max(1, Math.ceil(size / FILE_REGION));
    const parts: Promise<SavedContent>[] = [];
    for (let r = 0; r < regions; r++) {
      const offset = r * FILE_REGION;
      const last = r === regions - 1;
      const length = last ? size - offset : FILE_REGION;
      const { lane, job, result } = this.newJob(true, onBytes);
      lane.load += length;
      this.jobs.get(job)!.loadLeft = length;
      lane.endpoint.post({ t: 'file', job, path, offset, length, toEof: last });
      parts.push(result);
    }
    const done = await Promise.all(parts);
    return done.length === 1
      ? done[0]!
      : { content: done.flatMap((d) => d.content), size: done.reduce((s, d) => s + d.size, 0) };
  }

  private newJob(countOnReceive: boolean, onBytes?: (n: number) => void) {
    const lane = this.lanes.reduce((a, b) => (b.load < a.load ? b : a));
    const job = this.nextJob++;
    const result = new Promise<SavedContent>((resolve, reject) => {
      this.jobs.set(job, {
        endpoint: lane,
        countOnReceive,
        loadLeft: 0,
        content: [],
        size: 0,
        onBytes,
        resolve,
        reject,
      });
    });
    result.catch(() => {});
    return { lane, job, result };
  }

  /** Saves bytes already in memory (a document). */
  saveBytes(data: Uint8Array): Promise<SavedContent> {
    return this.saveStream([data]);
  }

  /** Saves one tree blob (sealed on this thread; trees are small). Returns its id. */
  saveTree(data: Buffer): Promise<string> {
    return this.saveBlob('tree', data);
  }

  /**
   * Saves one already-cut blob, sealed on this thread: trees, and blobs copied from another
   * repository. Returns its id; known blobs are not stored again.
   */
  async saveBlob(type: BlobType, data: Buffer): Promise<string> {
    this.assertUsable();
    const id = contentId(this.repo.keys.id, data);
    if (this.repo.index.has(id) || this.claimed.has(id)) return id;
    this.claimed.add(id);
    const { codec, body } = this.repo.codec.encode(data);
    this.addToPack(id, type, codec, body, data.length);
    await this.waitForCapacity();
    return id;
  }

  /** True if the repository has the blob or this saver is storing it. */
  has(id: string): boolean {
    return this.repo.index.has(id) || this.claimed.has(id);
  }

  /** Waits until every saved blob is in an uploaded pack and indexed. */
  async flush(): Promise<void> {
    // Every chunk has its verdict once no job is open and none is held back; the workers then
    // hand over their last packs.
    await this.waitFor(() => this.jobs.size === 0 && this.deferred.length === 0);
    this.flushing = this.lanes.length;
    for (const lane of this.lanes) lane.endpoint.post({ t: 'flush' });
    await this.waitFor(() => this.flushing === 0);
    for (const type of ['data', 'tree'] as const) {
      if (this.packers[type].count) this.upload(type);
    }
    await this.waitFor(() => this.queued.length === 0 && this.uploads.size === 0);
    this.writeIndex();
    while (this.indexWrites.size) await Promise.all([...this.indexWrites]);
    this.assertUsable();
  }

  /**
   * Stops after an error or cancellation: uploads already running finish and get indexed (the
   * next backup reuses them); nothing else is written.
   */
  async abort(): Promise<void> {
    this.failure ??= new EngineError('ECANCELED', 'backup canceled');
    for (const job of this.jobs.values()) job.reject(this.failure);
    this.jobs.clear();
    this.queued = [];
    if (this.workersStore) {
      // The packs workers are storing count as running uploads.
      for (const lane of this.lanes) lane.endpoint.post({ t: 'drain' });
      await this.waitFor(() => this.lanes.every((lane) => lane.drained), true);
    }
    await Promise.allSettled([...this.uploads]);
    this.writeIndex();
    await Promise.allSettled([...this.indexWrites]);
    await this.close();
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.endpoint.close()));
    this.lanes.length = 0;
  }

  private receive(msg: FromWorker, from: Lane): void {
    if (msg.t === 'error') {
      if (msg.exited) from.drained = true;
      return this.fail(
        msg.code
          ? new EngineError(msg.code, msg.message)
          : new EngineError('EWORKER', `chunk worker failed: ${msg.message}`),
      );
    }
    if (msg.t === 'stored') {
      const blobs = msg.rows.map(packedBlob);
      this.countData(blobs);
      this.stats.storedBytesAdded += msg.bytes;
      this.packStored(msg.id, blobs);
      return this.wake();
    }
    if (msg.t === 'drained') {
      from.drained = true;
      return this.wake();
    }
    if (msg.t === 'pack') {
      const data = Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength);
      const blobs = msg.rows.map(packedBlob);
      this.countData(blobs);
      this.queueUpload({ data, blobs, lane: from });
      return this.wake();
    }
    if (msg.t === 'flushed') {
      this.flushing--;
      return this.wake();
    }
    if (msg.t !== 'chunks') return;
    for (const result of msg.results) this.receiveChunks(result);
    this.wake();
  }

  /** Gives a verdict on a worker's chunks: known ones are dropped, new ones stored. */
  private receiveChunks(msg: ChunkResult): void {
    const job = this.jobs.get(msg.job);
    if (!job || job.canceled || msg.error) {
      // Nobody waits for these chunks any more (a failed job): the worker lets go of them.
      const ids = msg.chunks.map((c) => c.id);
      if (job?.endpoint && ids.length)
        job.endpoint.endpoint.post({ t: 'resolve', store: [], drop: ids });
      if (job && !job.countOnReceive) for (const c of msg.chunks) this.inFlight -= c.length;
      if (job && (msg.final || msg.error)) {
        this.jobs.delete(msg.job);
        job.endpoint.load -= job.loadLeft;
        if (msg.error) job.reject(new EngineError('EREAD', msg.error));
      }
      return;
    }
    if (job.countOnReceive) for (const c of msg.chunks) this.inFlight += c.length;
    const store: string[] = [];
    const drop: string[] = [];
    let bytes = 0;
    let storeBytes = 0;
    for (const { id, length } of msg.chunks) {
      job.content.push(id);
      bytes += length;
      if (this.repo.index.has(id) || this.claimed.has(id)) {
        drop.push(id);
        this.inFlight -= length;
      } else {
        this.claimed.add(id);
        store.push(id);
        storeBytes += length;
      }
    }
    job.size += bytes;
    const done = msg.final ? job.loadLeft : Math.min(bytes, job.loadLeft);
    job.endpoint.load -= done;
    job.loadLeft -= done;
    if (drop.length) job.endpoint.endpoint.post({ t: 'resolve', store: [], drop });
    if (store.length) this.sendStores(job.endpoint, store, storeBytes);
    if (bytes) job.onBytes?.(bytes);
    if (msg.final) {
      this.jobs.delete(msg.job);
      job.resolve({ content: job.content, size: job.size });
    }
  }

  /**
   * Tells a worker to seal new chunks — or, while packs wait for upload, holds the verdict back:
   * the worker keeps the chunks and stops reading, so slow storage slows the readers instead of
   * filling memory.
   */
  private sendStores(lane: Lane, store: string[], bytes: number): void {
    if (this.deferred.length || !this.hasRoom()) this.deferred.push({ lane, store, bytes });
    else this.postStores(lane, store, bytes);
  }

  private postStores(lane: Lane, store: string[], bytes: number): void {
    this.inFlight -= bytes;
    lane.endpoint.post({ t: 'resolve', store, drop: [] });
  }

  private flushDeferred(): void {
    while (this.deferred.length && this.hasRoom()) {
      const { lane, store, bytes } = this.deferred.shift()!;
      this.postStores(lane, store, bytes);
    }
  }

  private hasRoom(): boolean {
    return this.queued.length === 0 && this.uploads.size < this.uploadConcurrency + 1;
  }

  private addToPack(
    id: string,
    type: BlobType,
    codec: number,
    body: Uint8Array,
    plainLength: number,
  ): void {
    const packer = this.packers[type];
    packer.addPayload(id, type, this.repo.keys.encryption, codec, body, plainLength);
    if (type === 'tree') {
      this.stats.treeBlobsAdded++;
      this.stats.treeBytesAdded += plainLength;
    } else {
      this.stats.blobsAdded++;
      this.stats.bytesAdded += plainLength;
    }
    if (packer.bytes >= this.repo.config.packSize) this.upload(type);
  }

  /** Finishes the current pack of a type and queues it for upload. */
  private upload(type: BlobType): void {
    this.queueUpload(this.packers[type].finish(this.repo));
  }

  private queueUpload(pack: { data: Buffer; blobs: PackedBlob[]; lane?: Lane }): void {
    this.stats.storedBytesAdded += pack.data.length;
    this.queued.push(pack);
    this.queuedBytes += pack.data.length;
    this.pump();
  }

  /** Starts queued uploads while fewer than `uploadConcurrency` run. */
  private pump(): void {
    while (this.queued.length && this.uploads.size < this.uploadConcurrency && !this.failure) {
      const { data, blobs, lane } = this.queued.shift()!;
      this.queuedBytes -= data.length;
      this.startUpload(data, blobs, lane);
    }
  }

  private startUpload(data: Buffer, blobs: PackedBlob[], lane?: Lane): void {
    const id = randomId();
    const done = this.repo.storage
      .put(packKey(id), data)
      .then(() => {
        // Storage keeps no reference to the bytes once `put` resolves: the worker reuses them.
        if (lane && this.lanes.includes(lane)) {
          lane.endpoint.post({ t: 'recycle', buffer: data.buffer as ArrayBuffer }, [
            data.buffer as ArrayBuffer,
          ]);
        }
        this.packStored(id, blobs);
      })
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        this.uploads.delete(done);
        this.pump();
        this.wake();
      });
    this.uploads.add(done);
  }

  private countData(blobs: PackedBlob[]): void {
    for (const blob of blobs) {
      this.stats.blobsAdded++;
      this.stats.bytesAdded += blob.plainLength;
    }
  }

  /** A pack is in storage: its blobs go into the index, and an index file is written now and then. */
  private packStored(id: string, blobs: PackedBlob[]): void {
    this.repo.index.addPack(id, blobs);
    this.unindexed.push({ id, blobs });
    // Often enough that a killed backup leaves most of its uploads findable for the next one.
    if (
      this.unindexed.length >= this.indexEvery ||
      Date.now() - this.lastIndexWrite > INDEX_INTERVAL_MS
    ) {
      this.writeIndex();
    }
  }

  private writeIndex(): void {
    if (!this.unindexed.length) return;
    this.lastIndexWrite = Date.now();
    const packs = this.unindexed;
    this.unindexed = [];
    const done = writeIndexFile(this.repo, indexFileFrom(packs))
      .then((fileId) => void this.repo.index.files.add(fileId))
      .catch((err: Error) => this.fail(err))
      .finally(() => {
        this.indexWrites.delete(done);
        this.wake();
      });
    this.indexWrites.add(done);
  }

  private async waitForCapacity(): Promise<void> {
    await this.waitFor(
      () => this.inFlight + this.queuedBytes < this.maxInFlight && this.queued.length === 0,
    );
  }

  /** Waits for `ready`; throws once the saver failed (unless `evenIfFailed`). */
  private async waitFor(ready: () => boolean, evenIfFailed = false): Promise<void> {
    const wakeUp = evenIfFailed ? ready : () => !!this.failure || ready();
    for (;;) {
      if (!evenIfFailed) this.assertUsable();
      if (ready()) return;
      await new Promise<void>((resume) => this.waiters.push({ ready: wakeUp, resume }));
    }
  }

  /** Resumes the waiters whose condition holds (or that stop at a failure); the rest wait on. */
  private wake(): void {
    this.flushDeferred();
    if (!this.waiters.length) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (w.ready()) w.resume();
      else this.waiters.push(w);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const job of this.jobs.values()) job.reject(err);
    this.jobs.clear();
    this.wake();
  }

  private assertUsable(): void {
    if (this.failure) throw this.failure;
  }
}
