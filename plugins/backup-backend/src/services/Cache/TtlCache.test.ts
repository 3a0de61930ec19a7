import { describe, expect, it } from 'vitest';
import { TtlCache } from './TtlCache.js';

/** A cache on a hand-moved clock, and a counter of computations. */
function setup(ttlMs: number, maxSize?: number) {
  let clock = 1_000;
  const cache = new TtlCache<string>({
    ttlMs,
    now: () => clock,
    ...(maxSize ? { maxSize } : {}),
  });
  let computed = 0;
  const compute = (value: string) => () => {
    computed++;
    return Promise.resolve(value);
  };
  return {
    cache,
    compute,
    computed: () => computed,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('TtlCache', () => {
  it('serves a value for ttl, then computes it again', async () => {
    const t = setup(5_000);
    expect(await t.cache.get('a', t.compute('a1'))).toBe('a1');
    t.advance(4_999);
    expect(await t.cache.get('a', t.compute('a2'))).toBe('a1');
    expect(t.computed()).toBe(1);
    t.advance(1);
    expect(await t.cache.get('a', t.compute('a3'))).toBe('a3');
    expect(t.computed()).toBe(2);
  });

  it('shares one computation between concurrent callers, per key', async () => {
    const t = setup(5_000);
    const [x, y, z] = await Promise.all([
      t.cache.get('a', t.compute('a1')),
      t.cache.get('a', t.compute('a2')),
      t.cache.get('b', t.compute('b1')),
    ]);
    expect([x, y, z]).toEqual(['a1', 'a1', 'b1']);
    expect(t.computed()).toBe(2);
  });

  it('does not keep a failed computation', async () => {
    const t = setup(5_000);
    await expect(t.cache.get('a', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(t.cache.entryCount).toBe(0);
    expect(await t.cache.get('a', t.compute('a1'))).toBe('a1');
    expect(t.computed()).toBe(1);
  });

  it('a late failure does not drop the value that replaced it', async () => {
    const t = setup(1_000);
    let fail!: (err: Error) => void;
    const first = t.cache.get('a', () => new Promise<string>((_, reject) => (fail = reject)));
    t.advance(1_000);
    expect(await t.cache.get('a', t.compute('a2'))).toBe('a2');
    fail(new Error('late'));
    await expect(first).rejects.toThrow('late');
    expect(await t.cache.get('a', t.compute('a3'))).toBe('a2');
  });

  it('evicts the oldest entries beyond maxSize', async () => {
    const t = setup(5_000, 2);
    await t.cache.get('a', t.compute('a'));
    await t.cache.get('b', t.compute('b'));
    await t.cache.get('c', t.compute('c'));
    expect(t.cache.entryCount).toBe(2);
    expect(await t.cache.get('b', t.compute('b2'))).toBe('b');
    expect(await t.cache.get('a', t.compute('a2'))).toBe('a2');
  });

  it('counts entries by the size given; one larger than the cache is not kept', async () => {
    const t = setup(5_000, 10);
    await t.cache.get('a', t.compute('a'), 4);
    await t.cache.get('b', t.compute('b'), 4);
    await t.cache.get('c', t.compute('c'), 4); // evicts a
    expect(await t.cache.get('b', t.compute('b2'))).toBe('b');
    expect(await t.cache.get('a', t.compute('a2'), 4)).toBe('a2'); // evicts b
    expect(await t.cache.get('big', t.compute('big'), 11)).toBe('big');
    expect(await t.cache.get('big', t.compute('big2'), 11)).toBe('big2');
    expect(t.cache.entryCount).toBe(2);
  });

  it('clear() forgets everything', async () => {
    const t = setup(5_000);
    await t.cache.get('a', t.compute('a1'));
    t.cache.clear();
    expect(await t.cache.get('a', t.compute('a2'))).toBe('a2');
  });

  it('ttl 0 computes every time and keeps nothing', async () => {
    const t = setup(0);
    await t.cache.get('a', t.compute('a1'));
    expect(await t.cache.get('a', t.compute('a2'))).toBe('a2');
    expect(t.computed()).toBe(2);
    expect(t.cache.entryCount).toBe(0);
  });
});
