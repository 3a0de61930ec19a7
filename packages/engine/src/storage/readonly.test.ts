import { describe, expect, it } from 'vitest';
import { ReadOnlyError } from '../errors.js';
import { listAll, readAll } from '../testing/conformance.js';
import { MemoryStorage } from './memory.js';
import { readOnly, ReadOnlyStorage } from './readonly.js';

describe('readOnly', () => {
  it('passes reads through', async () => {
    const mem = new MemoryStorage('ro');
    await mem.put('data/a', Buffer.from('hello'));
    const s = readOnly(mem);
    expect(s.location).toBe('memory://ro');
    expect((await s.get('data/a')).toString()).toBe('hello');
    expect((await s.get('data/a', { offset: 1, length: 2 })).toString()).toBe('el');
    expect((await readAll(await s.getStream('data/a'))).toString()).toBe('hello');
    expect(await s.stat('data/a')).toEqual({ key: 'data/a', size: 5 });
    expect(await s.exists('data/a')).toBe(true);
    expect(await listAll(s, 'data/')).toEqual([{ key: 'data/a', size: 5 }]);
  });

  it('refuses put and delete with ReadOnlyError and leaves the storage unchanged', async () => {
    const mem = new MemoryStorage();
    await mem.put('config', Buffer.from('c'));
    const s = readOnly(mem);
    const err = await s.put('locks/l1', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadOnlyError);
    expect((err as ReadOnlyError).code).toBe('EREADONLY');
    expect((err as Error).message).toContain('put locks/l1');
    await expect(s.delete('config')).rejects.toBeInstanceOf(ReadOnlyError);
    expect(await listAll(mem, '')).toEqual([{ key: 'config', size: 1 }]);
  });

  it('does not wrap twice', () => {
    const once = readOnly(new MemoryStorage());
    expect(readOnly(once)).toBe(once);
    expect(once).toBeInstanceOf(ReadOnlyStorage);
  });
});
