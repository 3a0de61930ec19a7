import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../storage/local.js';
import { MemoryStorage } from '../storage/memory.js';
import { describeStorageConformance, listAll, readAll } from './conformance.js';
import { FaultyStorage, InjectedFault } from './faulty.js';

describe('FaultyStorage', () => {
  it('simulates a crash halfway through: puts fail after N, nothing partial is left', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kb-faulty-'));
    try {
      const faulty = new FaultyStorage(new LocalStorage(dir), { failPutAfter: 5 });
      const results = [];
      for (let i = 0; i < 10; i++) {
        results.push(await faulty.put(`data/p${i}`, Buffer.alloc(1000, i)).then(() => 'ok', (e: unknown) => e));
      }
      expect(results.slice(0, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      for (const r of results.slice(5)) {
        expect(r).toBeInstanceOf(InjectedFault);
        expect((r as InjectedFault).code).toBe('EIO');
      }
      expect(faulty.counts).toMatchObject({ puts: 10, failedPuts: 5 });
      expect((await listAll(faulty, '')).map((o) => o.key)).toEqual(['data/p0', 'data/p1', 'data/p2', 'data/p3', 'data/p4']);
      expect(await readdir(path.join(dir, 'data'))).toHaveLength(5);
      // Reads still work after the "crash"; lifting the limit lets writes through again.
      expect((await faulty.get('data/p4'))[0]).toBe(4);
      faulty.options = {};
      await faulty.put('data/p5', Buffer.alloc(1));
      expect(await faulty.exists('data/p5')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('corrupts reads of chosen keys by one bit, leaving the stored bytes intact', async () => {
    const mem = new MemoryStorage();
    const data = Buffer.alloc(64, 0xaa);
    await mem.put('good', data);
    await mem.put('bad', data);
    const faulty = new FaultyStorage(mem, { corruptGet: (key) => key === 'bad' });
    expect((await faulty.get('good')).equals(data)).toBe(true);
    const bad = await faulty.get('bad');
    expect(bad.equals(data)).toBe(false);
    expect(bad.length).toBe(64);
    expect([...bad].filter((b, i) => b !== data[i])).toEqual([0xab]);
    expect((await readAll(await faulty.getStream('bad'))).equals(bad)).toBe(true);
    expect((await faulty.get('bad', { offset: 0, length: 8 })).equals(data.subarray(0, 8))).toBe(false);
    expect((await mem.get('bad')).equals(data)).toBe(true);
    expect(faulty.counts.corrupted).toBe(3);
  });

  it('fails calls at the given rate', async () => {
    const always = new FaultyStorage(new MemoryStorage(), { failRate: 1 });
    await expect(always.get('k')).rejects.toBeInstanceOf(InjectedFault);
    await expect(always.stat('k')).rejects.toBeInstanceOf(InjectedFault);
    await expect(always.exists('k')).rejects.toBeInstanceOf(InjectedFault);
    await expect(always.delete('k')).rejects.toBeInstanceOf(InjectedFault);
    await expect(always.getStream('k')).rejects.toBeInstanceOf(InjectedFault);
    await expect(always.put('k', Buffer.alloc(1))).rejects.toBeInstanceOf(InjectedFault);
    await expect(listAll(always, '')).rejects.toBeInstanceOf(InjectedFault);
    expect(always.counts).toMatchObject({ calls: 7, failures: 7, failedPuts: 1 });
  });

  // With no faults configured it is a transparent wrapper.
  describeStorageConformance(
    'FaultyStorage without faults',
    async () => ({ storage: new FaultyStorage(new MemoryStorage()), cleanup: async () => {} }),
    { largeObjectSize: 2 * 1024 * 1024, manyObjects: 200 },
  );
});
