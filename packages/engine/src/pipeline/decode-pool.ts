/**
 * Decodes sealed blobs on worker threads (restore): authentication, decompression and the id
 * check run off the main thread, which only reads packs and writes files.
 */
import { IntegrityError } from '../errors.js';
import type { Repository } from '../repository.js';
import { defaultWorkers, startEndpoints, type Endpoint } from './endpoints.js';
import { workerInit, type FromWorker } from './protocol.js';

interface Lane {
  endpoint: Endpoint;
  busy: number;
}

export class DecodePool {
  private readonly lanes: Lane[] = [];
  private readonly waiting = new Map<
    number,
    { lane: Lane; resolve(p: Uint8Array[]): void; reject(e: Error): void }
  >();
  private next = 1;

  constructor(repo: Repository, workers = defaultWorkers()) {
    const endpoints = startEndpoints(workerInit(repo), workers, (msg) => this.receive(msg));
    for (const endpoint of endpoints) this.lanes.push({ endpoint, busy: 0 });
  }

  /** Decodes the blobs at the given offsets of `span`; `span` is handed over (do not reuse it). */
  decode(
    span: Buffer,
    blobs: Array<{ id: string; offset: number; length: number }>,
  ): Promise<Uint8Array[]> {
    const lane = this.lanes.reduce((a, b) => (b.busy < a.busy ? b : a));
    const req = this.next++;
    const whole = span.byteOffset === 0 && span.byteLength === span.buffer.byteLength;
    const data = whole ? span : new Uint8Array(span);
    lane.busy++;
    return new Promise((resolve, reject) => {
      this.waiting.set(req, { lane, resolve, reject });
      lane.endpoint.post({ t: 'decode', req, data, blobs }, [data.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.endpoint.close()));
  }

  private receive(msg: FromWorker): void {
    if (msg.t === 'error') {
      for (const w of this.waiting.values())
        w.reject(new Error(`decode worker failed: ${msg.message}`));
      this.waiting.clear();
      return;
    }
    if (msg.t !== 'decoded') return;
    const w = this.waiting.get(msg.req);
    if (!w) return;
    this.waiting.delete(msg.req);
    w.lane.busy--;
    if (msg.error) w.reject(new IntegrityError(msg.error.replace(/^integrity check failed: /, '')));
    else w.resolve(msg.plains);
  }
}
