/**
 * Restore workers: each span of a pack goes to the least busy worker, which reads it (or gets
 * its bytes), authenticates, decompresses and id-checks its blobs and writes them into the
 * target files itself (span-writer.ts). No plaintext crosses to this thread.
 */
import { IntegrityError } from '../errors.js';
import type { Repository } from '../repository.js';
import { defaultWorkers, startEndpoints, type Endpoint } from './endpoints.js';
import { workerInit, type FromWorker, type RestoreFile, type SpanRequest } from './protocol.js';

interface Lane {
  endpoint: Endpoint;
  busy: number;
}

export type SpanJob = Omit<SpanRequest, 't' | 'req'>;

export class RestorePool {
  private readonly lanes: Lane[] = [];
  private readonly waiting = new Map<
    number,
    { lane: Lane; resolve(bytes: number): void; reject(e: Error): void }
  >();
  private next = 1;
  /** A worker failed (or its thread is gone): every span from then on fails with this. */
  private failure?: Error;

  constructor(
    repo: Repository,
    private readonly maxOpenFiles: number,
    workers = defaultWorkers(),
    private readonly direct = true,
  ) {
    const endpoints = startEndpoints(
      workerInit(repo),
      workers,
      (msg) => this.receive(msg),
      repo.spareThreads,
    );
    for (const endpoint of endpoints) this.lanes.push({ endpoint, busy: 0 });
  }

  /** The target files; spans refer to them by index. */
  setFiles(files: RestoreFile[]): void {
    for (const { endpoint } of this.lanes)
      endpoint.post({ t: 'files', files, maxOpenFiles: this.maxOpenFiles, direct: this.direct });
  }

  get size(): number {
    return this.lanes.length;
  }

  /** Restores one span; resolves with the plaintext bytes written. `data` is handed over. */
  restore(span: SpanJob): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    const lane = this.lanes.reduce((a, b) => (b.busy < a.busy ? b : a));
    const req = this.next++;
    lane.busy++;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, { lane, resolve, reject });
      const transfer = span.data ? [span.data.buffer as ArrayBuffer] : [];
      lane.endpoint.post({ t: 'span', req, ...span }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.endpoint.close()));
  }

  private receive(msg: FromWorker): void {
    if (msg.t === 'error') {
      this.failure ??= new Error(`restore worker failed: ${msg.message}`);
      for (const w of this.waiting.values()) w.reject(this.failure);
      this.waiting.clear();
      return;
    }
    if (msg.t !== 'span') return;
    const w = this.waiting.get(msg.req);
    if (!w) return;
    this.waiting.delete(msg.req);
    w.lane.busy--;
    if (!msg.error) return w.resolve(msg.bytes);
    const { message, integrity, code } = msg.error;
    w.reject(integrity ? new IntegrityError(message) : Object.assign(new Error(message), { code }));
  }
}
