/**
 * A deliberately unreliable storage for robustness tests (in the spirit of kopia's
 * `internal/blobtesting` and restic's faulty backends). It wraps a real storage and:
 *
 * - `failPutAfter: n` — the first `n` puts succeed, every later one fails without writing:
 *   a crash or a full disk halfway through a backup.
 * - `failRate: p` — each call (put, get, getStream, stat, exists, list, delete) fails with
 *   probability `p` before reaching the inner storage: a flaky network. Use `random` for a
 *   deterministic sequence.
 * - `corruptGet(key)` — when it returns true, `get` and `getStream` of that key return the
 *   bytes with one bit flipped: bit rot or tampering.
 *
 * Injected failures are `InjectedFault` errors (code `EIO`, so withRetry treats them as
 * transient). Options can be changed between steps through `options`; `counts` tells how
 * many calls were made and how many failed.
 */
import { Readable } from 'node:stream';
import { EngineError } from '../errors.js';
import type { ByteRange, ObjectInfo, Storage } from '../storage/types.js';

export interface FaultyStorageOptions {
  failPutAfter?: number;
  failRate?: number;
  corruptGet?: (key: string) => boolean;
  /** Random numbers in [0, 1) for failRate (default Math.random). */
  random?: () => number;
}

export class InjectedFault extends EngineError {
  constructor(operation: string, key: string) {
    super('EIO', `injected fault: ${operation} ${key}`);
  }
}

export interface FaultyCounts {
  puts: number;
  failedPuts: number;
  calls: number;
  failures: number;
  corrupted: number;
}

export class FaultyStorage implements Storage {
  readonly location: string;
  readonly counts: FaultyCounts = { puts: 0, failedPuts: 0, calls: 0, failures: 0, corrupted: 0 };

  constructor(
    readonly inner: Storage,
    public options: FaultyStorageOptions = {},
  ) {
    this.location = inner.location;
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    this.maybeFail('get', key);
    const data = await this.inner.get(key, range);
    return this.maybeCorrupt(key, data);
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    this.maybeFail('getStream', key);
    const stream = await this.inner.getStream(key);
    if (!this.options.corruptGet?.(key)) return stream;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
    return Readable.from([this.maybeCorrupt(key, Buffer.concat(chunks))]);
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    this.counts.puts++;
    const limit = this.options.failPutAfter;
    if (limit !== undefined && this.counts.puts > limit) {
      this.counts.failedPuts++;
      this.counts.failures++;
      throw new InjectedFault('put', key);
    }
    try {
      this.maybeFail('put', key);
    } catch (err) {
      this.counts.failedPuts++;
      throw err;
    }
    await this.inner.put(key, data);
  }

  async stat(key: string): Promise<ObjectInfo> {
    this.maybeFail('stat', key);
    return this.inner.stat(key);
  }

  async exists(key: string): Promise<boolean> {
    this.maybeFail('exists', key);
    return this.inner.exists(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    this.maybeFail('list', prefix);
    yield* this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    this.maybeFail('delete', key);
    await this.inner.delete(key);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private maybeFail(operation: string, key: string): void {
    this.counts.calls++;
    const rate = this.options.failRate ?? 0;
    if (rate > 0 && (this.options.random ?? Math.random)() < rate) {
      this.counts.failures++;
      throw new InjectedFault(operation, key);
    }
  }

  private maybeCorrupt(key: string, data: Buffer): Buffer {
    if (data.length === 0 || !this.options.corruptGet?.(key)) return data;
    const copy = Buffer.from(data);
    copy[copy.length >> 1]! ^= 0x01;
    this.counts.corrupted++;
    return copy;
  }
}
