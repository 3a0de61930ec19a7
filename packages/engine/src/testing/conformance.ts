/**
 * The storage conformance suite: one vitest suite that checks the whole contract of
 * ../storage/types.ts. Every backend and wrapper runs it:
 *
 * ```ts
 * describeStorageConformance('LocalStorage', async () => {
 *   const dir = await mkdtemp(join(tmpdir(), 'kb-'));
 *   return { storage: new LocalStorage(dir), cleanup: () => rm(dir, { recursive: true }) };
 * });
 * ```
 *
 * `factory` is called before each test and must return an empty storage; `cleanup` runs after
 * it (and should delete what the test wrote when the storage is shared, e.g. a real bucket).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EngineError, NotFoundError } from '../errors.js';
import type { ObjectInfo, Storage } from '../storage/types.js';
import { mapLimit } from '../util/concurrency.js';

export interface ConformanceSubject {
  storage: Storage;
  cleanup(): Promise<void>;
}

export interface ConformanceOptions {
  /** Size of the large object (default 40 MiB, enough for a multipart upload on S3). */
  largeObjectSize?: number;
  /** Objects in the pagination test (default 1100, more than one S3 listing page). */
  manyObjects?: number;
}

const MiB = 1024 * 1024;

/** Runs `fn` over `items` with at most `limit` calls in flight. */
/** Runs `fn` over `items` with at most `limit` at once (kept for callers of the testing API). */
export const mapConcurrent = mapLimit;

/** Collects a listing, sorted by key. */
export async function listAll(storage: Storage, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of storage.list(prefix)) out.push(info);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Reads a stream to its end. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected an error with code ${code}`).toBeInstanceOf(EngineError);
  expect((err as EngineError).code).toBe(code);
}

async function expectNotFound(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(NotFoundError);
}

export function describeStorageConformance(
  name: string,
  factory: () => Promise<ConformanceSubject>,
  options: ConformanceOptions = {},
): void {
  const largeSize = options.largeObjectSize ?? 40 * MiB;
  const manyObjects = options.manyObjects ?? 1100;

  describe(`storage conformance: ${name}`, () => {
    let subject: ConformanceSubject | undefined;
    let s: Storage;

    beforeEach(async () => {
      subject = await factory();
      s = subject.storage;
    });

    afterEach(async () => {
      const current = subject;
      subject = undefined;
      await current?.cleanup();
    });

    it('has a location', () => {
      expect(typeof s.location).toBe('string');
      expect(s.location.length).toBeGreaterThan(0);
    });

    describe('put and get round trip', () => {
      for (const [label, size] of [
        ['0 bytes', 0],
        ['1 byte', 1],
        ['1 MiB', MiB],
        // Not a whole number of 4 KiB blocks: a backend writing blocks must not pad the object.
        ['2 MiB + 4099 bytes', 2 * MiB + 4099],
      ] as const) {
        it(label, async () => {
          const data = randomBytes(size);
          await s.put('objects/round-trip', data);
          const back = await s.get('objects/round-trip');
          expect(Buffer.isBuffer(back)).toBe(true);
          expect(back.equals(data)).toBe(true);
          expect(await s.stat('objects/round-trip')).toEqual({ key: 'objects/round-trip', size });
          expect(await s.exists('objects/round-trip')).toBe(true);
          expect((await readAll(await s.getStream('objects/round-trip'))).equals(data)).toBe(true);
        });
      }

      it(`a large object (${Math.round(largeSize / MiB)} MiB), with ranges across part boundaries`, async () => {
        const data = randomBytes(largeSize);
        await s.put('large/object', data);
        expect(await s.stat('large/object')).toEqual({ key: 'large/object', size: largeSize });
        const back = await s.get('large/object');
        expect(back.length).toBe(largeSize);
        expect(back.equals(data)).toBe(true);
        for (const offset of [0, 5 * MiB - 3, 8 * MiB - 7, 16 * MiB - 1, largeSize - 100]) {
          if (offset < 0 || offset + 100 > largeSize) continue;
          const part = await s.get('large/object', { offset, length: 100 });
          expect(part.equals(data.subarray(offset, offset + 100))).toBe(true);
        }
        const streamed = await readAll(await s.getStream('large/object'));
        expect(streamed.equals(data)).toBe(true);
      });

      it('accepts a Uint8Array and keeps its own copy of the bytes', async () => {
        const bytes = new Uint8Array([1, 2, 3, 4, 5]);
        await s.put('u8', bytes);
        bytes[0] = 99;
        expect([...(await s.get('u8'))]).toEqual([1, 2, 3, 4, 5]);
        const view = Buffer.from([9, 8, 7, 6, 5, 4]).subarray(2, 5);
        await s.put('view', view);
        expect([...(await s.get('view'))]).toEqual([7, 6, 5]);
      });

      it('accepts every key character and nested keys', async () => {
        const keys = ['config', 'a.b_c-D9', 'data/3f/3fa2', 'x/y/z/w/v/deep', '.hidden/..dots'];
        for (const key of keys) await s.put(key, Buffer.from(key));
        for (const key of keys) expect((await s.get(key)).toString()).toBe(key);
      });
    });

    it('overwrites an existing object', async () => {
      await s.put('over', Buffer.alloc(1000, 1));
      await s.put('over', Buffer.from('short'));
      expect((await s.get('over')).toString()).toBe('short');
      expect(await s.stat('over')).toEqual({ key: 'over', size: 5 });
      expect(await listAll(s, 'over')).toEqual([{ key: 'over', size: 5 }]);
      await s.put('over', Buffer.alloc(0));
      expect((await s.get('over')).length).toBe(0);
    });

    describe('ranges', () => {
      const data = randomBytes(1000);
      beforeEach(async () => {
        await s.put('r/obj', data);
      });

      it('reads the start, the middle, the end and the whole object', async () => {
        expect((await s.get('r/obj', { offset: 0, length: 10 })).equals(data.subarray(0, 10))).toBe(true);
        expect((await s.get('r/obj', { offset: 500, length: 123 })).equals(data.subarray(500, 623))).toBe(true);
        expect((await s.get('r/obj', { offset: 990, length: 10 })).equals(data.subarray(990))).toBe(true);
        expect((await s.get('r/obj', { offset: 0, length: 1000 })).equals(data)).toBe(true);
        expect((await s.get('r/obj', { offset: 999, length: 1 }))[0]).toBe(data[999]);
      });

      it('returns empty buffers for empty ranges inside the object', async () => {
        expect((await s.get('r/obj', { offset: 0, length: 0 })).length).toBe(0);
        expect((await s.get('r/obj', { offset: 1000, length: 0 })).length).toBe(0);
      });

      it('throws ERANGE for ranges past the end', async () => {
        await expectCode(s.get('r/obj', { offset: 995, length: 10 }), 'ERANGE');
        await expectCode(s.get('r/obj', { offset: 1000, length: 1 }), 'ERANGE');
        await expectCode(s.get('r/obj', { offset: 5000, length: 10 }), 'ERANGE');
        await expectCode(s.get('r/obj', { offset: 1001, length: 0 }), 'ERANGE');
        await s.put('r/empty', Buffer.alloc(0));
        await expectCode(s.get('r/empty', { offset: 0, length: 1 }), 'ERANGE');
      });

      it('throws NotFoundError for a range of a missing key', async () => {
        await expectNotFound(s.get('r/missing', { offset: 0, length: 10 }));
      });
    });

    describe('missing keys', () => {
      it('get, stat and getStream throw NotFoundError; exists is false', async () => {
        await expectNotFound(s.get('nope'));
        await expectNotFound(s.stat('nope'));
        await expectNotFound(s.getStream('nope'));
        expect(await s.exists('nope')).toBe(false);
        await expectNotFound(s.get('deep/er/nope'));
      });

      it('a key below an object, or a "directory" of keys, is not an object', async () => {
        await s.put('file', Buffer.from('x'));
        await expectNotFound(s.get('file/below'));
        await expectNotFound(s.stat('file/below'));
        expect(await s.exists('file/below')).toBe(false);
        await s.put('dir/inside', Buffer.from('x'));
        await expectNotFound(s.get('dir'));
        await expectNotFound(s.stat('dir'));
        await expectNotFound(s.getStream('dir'));
        expect(await s.exists('dir')).toBe(false);
        await s.delete('dir');
        expect(await s.exists('dir/inside')).toBe(true);
      });
    });

    describe('list', () => {
      const objects: Record<string, number> = {
        config: 3,
        'data/00/aa': 10,
        'data/00/ab': 11,
        'data/01/cc': 12,
        'data/0x': 1,
        'index/i1': 20,
        'snapshots/s1': 0,
      };
      beforeEach(async () => {
        await Promise.all(Object.entries(objects).map(([k, n]) => s.put(k, Buffer.alloc(n, 7))));
      });
      const expected = (...keys: string[]): ObjectInfo[] =>
        keys.sort().map((key) => ({ key, size: objects[key]! }));

      it('lists everything with sizes', async () => {
        expect(await listAll(s, '')).toEqual(expected(...Object.keys(objects)));
      });

      it('lists nested directory prefixes', async () => {
        expect(await listAll(s, 'data/')).toEqual(expected('data/00/aa', 'data/00/ab', 'data/01/cc', 'data/0x'));
        expect(await listAll(s, 'data/00/')).toEqual(expected('data/00/aa', 'data/00/ab'));
        expect(await listAll(s, 'snapshots/')).toEqual(expected('snapshots/s1'));
      });

      it('lists partial-name prefixes', async () => {
        expect(await listAll(s, 'data/0')).toEqual(expected('data/00/aa', 'data/00/ab', 'data/01/cc', 'data/0x'));
        expect(await listAll(s, 'data/00/a')).toEqual(expected('data/00/aa', 'data/00/ab'));
        expect(await listAll(s, 'dat')).toEqual(expected('data/00/aa', 'data/00/ab', 'data/01/cc', 'data/0x'));
        expect(await listAll(s, 'data/00/ab')).toEqual(expected('data/00/ab'));
        expect(await listAll(s, 'config')).toEqual(expected('config'));
      });

      it('yields nothing for a missing prefix', async () => {
        expect(await listAll(s, 'missing/')).toEqual([]);
        expect(await listAll(s, 'data/02/')).toEqual([]);
        expect(await listAll(s, 'data/00/aa/')).toEqual([]);
        expect(await listAll(s, 'config/')).toEqual([]);
        expect(await listAll(s, 'zzz')).toEqual([]);
      });

      it('sees puts and deletes at once', async () => {
        await s.put('data/02/new', Buffer.alloc(5));
        await s.delete('data/00/aa');
        expect(await listAll(s, 'data/0')).toEqual([
          ...expected('data/00/ab', 'data/01/cc'),
          { key: 'data/02/new', size: 5 },
          ...expected('data/0x'),
        ]);
      });
    });

    it(`lists ${manyObjects} objects (more than one page) without loss or duplicates`, async () => {
      const keys = Array.from({ length: manyObjects }, (_, i) => `many/${String(i % 16).padStart(2, '0')}/k${i}`);
      await mapConcurrent(keys, 32, (key, i) => s.put(key, Buffer.from(String(i))));
      await s.put('other/one', Buffer.from('x'));
      const listed = await listAll(s, 'many/');
      expect(listed.length).toBe(manyObjects);
      expect(new Set(listed.map((o) => o.key)).size).toBe(manyObjects);
      expect(listed.map((o) => o.key)).toEqual([...keys].sort());
      for (const info of listed) expect(info.size).toBe(info.key.slice(info.key.lastIndexOf('k') + 1).length);
      expect((await listAll(s, '')).length).toBe(manyObjects + 1);
    });

    describe('delete', () => {
      it('removes an object and is idempotent', async () => {
        await s.put('del/x', Buffer.from('x'));
        await s.put('del/y', Buffer.from('y'));
        await s.delete('del/x');
        expect(await s.exists('del/x')).toBe(false);
        await expectNotFound(s.get('del/x'));
        expect(await listAll(s, 'del/')).toEqual([{ key: 'del/y', size: 1 }]);
        await s.delete('del/x');
        await s.delete('never/existed');
        expect((await s.get('del/y')).toString()).toBe('y');
      });

      it('allows a put after a delete', async () => {
        await s.put('again', Buffer.from('1'));
        await s.delete('again');
        await s.put('again', Buffer.from('2'));
        expect((await s.get('again')).toString()).toBe('2');
      });
    });

    describe('concurrency', () => {
      it('concurrent puts of distinct keys all land', async () => {
        const items = Array.from({ length: 64 }, (_, i) => ({ key: `conc/${i % 4}/k${i}`, data: randomBytes(100 + i) }));
        await Promise.all(items.map((it) => s.put(it.key, it.data)));
        const back = await Promise.all(items.map((it) => s.get(it.key)));
        back.forEach((data, i) => expect(data.equals(items[i]!.data)).toBe(true));
        expect((await listAll(s, 'conc/')).length).toBe(64);
      });

      it('concurrent puts of one key leave one whole value', async () => {
        const values = Array.from({ length: 8 }, (_, i) => Buffer.alloc(64 * 1024 + i, i + 1));
        await Promise.all(values.map((v) => s.put('same', v)));
        const got = await s.get('same');
        expect(values.some((v) => v.equals(got))).toBe(true);
        expect(await listAll(s, 'same')).toEqual([{ key: 'same', size: got.length }]);
      });

      it('concurrent reads while overwriting see whole values', async () => {
        const a = Buffer.alloc(256 * 1024, 1);
        const b = Buffer.alloc(128 * 1024, 2);
        await s.put('rw', a);
        const reads: Promise<Buffer>[] = [];
        const writes: Promise<void>[] = [];
        for (let i = 0; i < 6; i++) {
          writes.push(s.put('rw', i % 2 ? a : b));
          reads.push(s.get('rw'));
        }
        await Promise.all(writes);
        for (const got of await Promise.all(reads)) expect(got.equals(a) || got.equals(b)).toBe(true);
      });
    });

    describe('invalid keys', () => {
      const invalid = ['', '../x', '/abs', 'a//b', 'a/', 'a/../b', './a', '..', 'a b', 'a\\b', 'ü'];
      it.each(invalid)('rejects %j', async (key) => {
        await expectCode(s.put(key, Buffer.from('x')), 'EKEY');
        await expectCode(s.get(key), 'EKEY');
        await expectCode(s.stat(key), 'EKEY');
        await expectCode(s.getStream(key), 'EKEY');
        await expectCode(s.get(key, { offset: 0, length: 1 }), 'EKEY');
      });

      it('writes nothing for a rejected key', async () => {
        await expect(s.put('../escape', Buffer.from('x'))).rejects.toThrow();
        await expect(s.put('/escape', Buffer.from('x'))).rejects.toThrow();
        expect(await listAll(s, '')).toEqual([]);
      });
    });
  });
}
