/** In-memory storage for network-free unit tests. Same contract as every backend (./types.ts). */
import { Readable } from 'node:stream';
import { NotFoundError } from '../errors.js';
import type { ByteRange, ObjectInfo, Storage } from './types.js';
import { assertValidKey, sliceRange } from './keys.js';

export class MemoryStorage implements Storage {
  readonly location: string;
  private readonly objects = new Map<string, Buffer>();

  constructor(name = 'memory') {
    this.location = `memory://${name}`;
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    return sliceRange(this.lookup(key), key, range);
  }

  async getStream(key: string): Promise<NodeJS.ReadableStream> {
    return Readable.from([this.lookup(key)]);
  }

  async put(key: string, data: Buffer | Uint8Array): Promise<void> {
    assertValidKey(key);
    this.objects.set(key, Buffer.from(data));
  }

  async stat(key: string): Promise<ObjectInfo> {
    return { key, size: this.lookup(key).length };
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const [key, data] of [...this.objects]) {
      if (key.startsWith(prefix)) yield { key, size: data.length };
    }
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  async close(): Promise<void> {}

  private lookup(key: string): Buffer {
    assertValidKey(key);
    const data = this.objects.get(key);
    if (!data) throw new NotFoundError(key);
    return data;
  }
}
