import { describe, expect, it } from 'vitest';
import { EngineError, NotFoundError, ReadOnlyError } from '../errors.js';
import { describeStorageConformance, listAll } from '../testing/conformance.js';
import { FaultyStorage, InjectedFault } from '../testing/faulty.js';
import { MemoryStorage } from './memory.js';
import { readOnly } from './readonly.js';
import { isPermanent, withRetry } from './retry.js';
import type { RetryEvent, RetryOptions } from './retry.js';
import type { ObjectInfo, Storage } from './types.js';

/** Fails the first `failures` calls of each method with `error()`, then delegates. */
class FlakyStorage implements Storage {
  readonly location = 'flaky://test';
  readonly calls: Record<string, number> = {};
  constructor(
    readonly inner: Storage,
    private failures: number,
    private readonly error: () => unknown = () => new EngineError('EIO', 'connection reset'),
  ) {}
  private hit(op: string): void {
    this.calls[op] = (this.calls[op] ?? 0) + 1;
    if (this.calls[op]! <= this.failures) throw this.error();
  }
  async get(key: string, range?: { offset: number; length: number }) {
    this.hit('get');
    return this.inner.get(key, range);
  }
  async getStream(key: string) {
    this.hit('getStream');
    return this.inner.getStream(key);
  }
  async put(key: string, data: Buffer | Uint8Array) {
    this.hit('put');
    return this.inner.put(key, data);
  }
  async stat(key: string) {
    this.hit('stat');
    return this.inner.stat(key);
  }
  async exists(key: string) {
    this.hit('exists');
    return this.inner.exists(key);
  }
  async *list(prefix: string) {
    this.hit('list');
    yield* this.inner.list(prefix);
  }
  async delete(key: string) {
    this.hit('delete');
    return this.inner.delete(key);
  }
  async close() {}
}

/** Retry options that do not sleep, recording the delays they would have waited. */
function fast(extra: RetryOptions = {}): RetryOptions & { delays: number[]; events: RetryEvent[] } {
  const delays: number[] = [];
  const events: RetryEvent[] = [];
  return {
    sleep: async (ms) => {
      delays.push(ms);
    },
    onRetry: (e) => events.push(e),
    delays,
    events,
    ...extra,
  };
}

describe('withRetry', () => {
  it('retries transient failures and then succeeds, for every method', async () => {
    const mem = new MemoryStorage();
    await mem.put('k', Buffer.from('value'));
    const flaky = new FlakyStorage(mem, 2);
    const opts = fast();
    const s = withRetry(flaky, opts);
    expect((await s.get('k')).toString()).toBe('value');
    expect((await s.get('k', { offset: 1, length: 3 })).toString()).toBe('alu');
    await s.put('k2', Buffer.from('x'));
    expect(await s.stat('k2')).toEqual({ key: 'k2', size: 1 });
    expect(await s.exists('k2')).toBe(true);
    expect(await listAll(s, '')).toHaveLength(2);
    await s.getStream('k');
    await s.delete('k2');
    expect(await mem.exists('k2')).toBe(false);
    for (const op of ['get', 'put', 'stat', 'exists', 'list', 'getStream', 'delete']) {
      expect(flaky.calls[op], op).toBeGreaterThanOrEqual(3);
    }
    expect(opts.events[0]).toMatchObject({ operation: 'get', key: 'k', attempt: 1 });
    expect(opts.events[1]).toMatchObject({ operation: 'get', key: 'k', attempt: 2 });
    expect(s.location).toBe('flaky://test');
  });

  it('uses exponential backoff with full jitter, capped', async () => {
    const flaky = new FlakyStorage(new MemoryStorage(), 7);
    const opts = fast({ retries: 7, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    await withRetry(flaky, opts).put('k', Buffer.from('x'));
    expect(opts.delays).toEqual([99, 199, 399, 799, 999, 999, 999]);
    const zero = fast({ retries: 3, random: () => 0 });
    await withRetry(new FlakyStorage(new MemoryStorage(), 3), zero).put('k', Buffer.from('x'));
    expect(zero.delays).toEqual([0, 0, 0]);
  });

  it('gives up after `retries` retries and throws the last error', async () => {
    let n = 0;
    const flaky = new FlakyStorage(new MemoryStorage(), 100, () => new EngineError('EIO', `failure ${++n}`));
    const opts = fast({ retries: 3 });
    const err = await withRetry(flaky, opts).get('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as Error).message).toBe('failure 4');
    expect(flaky.calls.get).toBe(4);
    expect(opts.events.map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('never retries permanent errors', async () => {
    const cases: Array<[string, () => unknown]> = [
      ['not found', () => new NotFoundError('k')],
      ['read-only', () => new ReadOnlyError('put k')],
      ['bad key', () => new EngineError('EKEY', 'invalid storage key')],
      ['bad range', () => new EngineError('ERANGE', 'range outside')],
      ['usage', () => new EngineError('EUSAGE', 'bad url')],
      ['access', () => new EngineError('EACCESS', 'denied')],
      ['programming error', () => new TypeError('x is not a function')],
      ['EACCES', () => Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })],
      ['marked', () => Object.assign(new Error('custom'), { permanent: true })],
    ];
    for (const [label, error] of cases) {
      const flaky = new FlakyStorage(new MemoryStorage(), 1, error);
      const opts = fast();
      await expect(withRetry(flaky, opts).stat('k'), label).rejects.toBeDefined();
      expect(flaky.calls.stat, label).toBe(1);
      expect(opts.events, label).toEqual([]);
    }
  });

  it('does not retry a real missing key or a read-only refusal', async () => {
    const mem = new MemoryStorage();
    const flakyGets = new FlakyStorage(mem, 0);
    const opts = fast();
    await expect(withRetry(flakyGets, opts).get('missing')).rejects.toBeInstanceOf(NotFoundError);
    await expect(withRetry(readOnly(mem), opts).put('k', Buffer.from('x'))).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(withRetry(mem, opts).put('../k', Buffer.from('x'))).rejects.toMatchObject({ code: 'EKEY' });
    expect(flakyGets.calls.get).toBe(1);
    expect(opts.events).toEqual([]);
  });

  it('classifies errors', () => {
    expect(isPermanent(new NotFoundError('k'))).toBe(true);
    expect(isPermanent(new EngineError('EIO', 'reset'))).toBe(false);
    expect(isPermanent(new InjectedFault('put', 'k'))).toBe(false);
    expect(isPermanent(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isPermanent(new Error('unknown'))).toBe(false);
    expect(isPermanent(Object.assign(new Error('x'), { permanent: false }))).toBe(false);
    expect(isPermanent(new EngineError('ENOSPACE', 'disk full'))).toBe(true);
    expect(isPermanent('a string')).toBe(false);
  });

  it('restarts a failed listing without yielding any object twice', async () => {
    const mem = new MemoryStorage();
    for (let i = 0; i < 10; i++) await mem.put(`k/${i}`, Buffer.from(String(i)));
    let attempts = 0;
    // Fails after yielding 3, then 6 objects; succeeds on the third listing.
    const breaking: Storage = Object.assign(Object.create(mem) as Storage, {
      async *list(prefix: string): AsyncIterable<ObjectInfo> {
        const stopAt = [3, 6][attempts++];
        let n = 0;
        for await (const info of mem.list(prefix)) {
          if (n++ === stopAt) throw new EngineError('EIO', 'connection reset');
          yield info;
        }
      },
    });
    const opts = fast({ retries: 1 });
    const listed = await listAll(withRetry(breaking, opts), 'k/');
    expect(listed.map((o) => o.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k/${i}`));
    expect(attempts).toBe(3);
    // Each restart made progress, so one retry per failure was enough.
    expect(opts.events.map((e) => e.operation)).toEqual(['list', 'list']);
  });

  it('gives up on a listing that keeps failing before making progress', async () => {
    const flaky = new FlakyStorage(new MemoryStorage(), 100);
    await expect(listAll(withRetry(flaky, fast({ retries: 2 })), '')).rejects.toMatchObject({ code: 'EIO' });
    expect(flaky.calls.list).toBe(3);
  });

  it('waits for real with the default sleep', async () => {
    const flaky = new FlakyStorage(new MemoryStorage(), 2);
    const started = Date.now();
    await withRetry(flaky, { baseDelayMs: 20, random: () => 0.99 }).put('k', Buffer.from('x'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });
});

describe('withRetry over FaultyStorage', () => {
  it('hides a 30% failure rate from a whole workload', async () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const faulty = new FaultyStorage(new MemoryStorage(), { failRate: 0.3, random });
    const s = withRetry(faulty, { retries: 12, sleep: async () => {} });
    for (let i = 0; i < 50; i++) await s.put(`w/${i}`, Buffer.from(String(i)));
    for (let i = 0; i < 50; i++) expect((await s.get(`w/${i}`)).toString()).toBe(String(i));
    expect(await listAll(s, 'w/')).toHaveLength(50);
    expect(faulty.counts.failures).toBeGreaterThan(10);
  });

  // The retry wrapper must keep the contract (an always-failing inner is not needed for that).
  describeStorageConformance(
    'withRetry(FaultyStorage(failRate 0.2))',
    async () => ({
      storage: withRetry(new FaultyStorage(new MemoryStorage(), { failRate: 0.2 }), {
        retries: 30,
        sleep: async () => {},
      }),
      cleanup: async () => {},
    }),
    { largeObjectSize: 4 * 1024 * 1024, manyObjects: 300 },
  );
});
