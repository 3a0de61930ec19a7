import { afterEach, describe, expect, it, vi } from 'vitest';
import { createZstdCodec } from './compression.js';
import { getSealedJson, putSealedJson, type RepoContext } from './context.js';
import { deriveKeys, newMasterSecret, randomId } from './crypto.js';
import { LockedError } from './errors.js';
import {
  acquireLock,
  describeLock,
  listLocks,
  removeAllLocks,
  removeStaleLocks,
  type AcquireLockOptions,
  type LockFile,
} from './lock.js';
import { MemoryStorage } from './storage/memory.js';
import type { ByteRange, ObjectInfo, Storage } from './storage/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function makeCtx(storage: Storage = new MemoryStorage()): RepoContext {
  return { storage, keys: deriveKeys(newMasterSecret()), codec: createZstdCodec() };
}

/** A fake clock shared by every "process" of a test. */
function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function keys(storage: Storage, prefix = 'locks/'): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

const base = (c: { now: () => number }, extra: Partial<AcquireLockOptions> = {}): AcquireLockOptions => ({
  exclusive: false,
  host: 'host-a',
  user: 'alice',
  pid: 101,
  refreshMs: 0,
  now: c.now,
  ...extra,
});

/** Delegating storage with hooks, to force interleavings. */
class HookStorage implements Storage {
  readonly location = 'memory://hooked';
  afterPut?: (key: string) => Promise<void>;
  beforeOp?: () => Promise<void>;
  constructor(readonly inner: Storage) {}
  private async gate() {
    await this.beforeOp?.();
  }
  async get(key: string, range?: ByteRange) {
    await this.gate();
    return this.inner.get(key, range);
  }
  getStream(key: string) {
    return this.inner.getStream(key);
  }
  async put(key: string, data: Buffer | Uint8Array) {
    await this.gate();
    await this.inner.put(key, data);
    await this.afterPut?.(key);
  }
  async stat(key: string) {
    await this.gate();
    return this.inner.stat(key);
  }
  async exists(key: string) {
    await this.gate();
    return this.inner.exists(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.gate();
    const all: ObjectInfo[] = [];
    for await (const o of this.inner.list(prefix)) all.push(o);
    yield* all;
  }
  async delete(key: string) {
    await this.gate();
    await this.inner.delete(key);
  }
  close() {
    return this.inner.close();
  }
}

/** Small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('acquireLock', () => {
  it('stores an encrypted lock file that names its holder, and release deletes it', async () => {
    const ctx = makeCtx();
    const c = clock();
    const lock = await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 60_000 }));
    expect(lock.key).toBe(`locks/${lock.id}`);
    expect(lock.exclusive).toBe(true);
    const raw = await ctx.storage.get(lock.key);
    expect(raw.includes(Buffer.from('host-a'))).toBe(false);
    expect(await getSealedJson<LockFile>(ctx, lock.key)).toEqual({
      exclusive: true,
      host: 'host-a',
      pid: 101,
      user: 'alice',
      time: '2026-01-01T00:00:00.000Z',
      expires: '2026-01-01T00:01:00.000Z',
    });
    await lock.release();
    expect(await keys(ctx.storage)).toEqual([]);
    await lock.release(); // twice is harmless
    await lock.refresh(); // no-op after release
    expect(await keys(ctx.storage)).toEqual([]);
  });

  it('lets shared locks coexist', async () => {
    const ctx = makeCtx();
    const c = clock();
    const a = await acquireLock(ctx, base(c));
    const b = await acquireLock(ctx, base(c, { host: 'host-b' }));
    expect((await listLocks(ctx)).map((l) => l.id).sort()).toEqual([a.id, b.id].sort());
    await a.release();
    await b.release();
  });

  it.each([
    ['exclusive blocks shared', true, false],
    ['exclusive blocks exclusive', true, true],
    ['shared blocks exclusive', false, true],
  ])('%s, and the error names the holder', async (_name, first, second) => {
    const ctx = makeCtx();
    const c = clock();
    const held = await acquireLock(ctx, base(c, { exclusive: first, host: 'node-7', user: 'bob', pid: 4242, ttlMs: 10 * 60_000 }));
    c.advance(3 * 60_000 + 5_000);
    const err = await acquireLock(ctx, base(c, { exclusive: second, host: 'other' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    const msg = (err as Error).message;
    expect(msg).toContain('bob@node-7');
    expect(msg).toContain('pid 4242');
    expect(msg).toContain('acquired 3m5s ago');
    expect(msg).toContain(first ? 'exclusive' : 'shared');
    expect(msg).toContain('kubectl backup repo unlock');
    expect(await keys(ctx.storage)).toEqual([held.key]); // the refused attempt left nothing behind
    await held.release();
    const next = await acquireLock(ctx, base(c, { exclusive: second }));
    await next.release();
  });

  it('ignores expired locks as stale (honouring staleGraceMs)', async () => {
    const ctx = makeCtx();
    const c = clock();
    const crashed = await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 60_000 }));
    void crashed; // never released: the process "crashed"
    c.advance(60_001);
    await expect(acquireLock(ctx, base(c, { exclusive: true, staleGraceMs: 30_000 }))).rejects.toThrow(LockedError);
    const lock = await acquireLock(ctx, base(c, { exclusive: true }));
    const listed = await listLocks(ctx, { now: c.now });
    expect(listed).toHaveLength(2);
    expect(listed.find((l) => l.id === crashed.id)!.stale).toBe(true);
    expect(listed.find((l) => l.id === lock.id)!.stale).toBe(false);
    await lock.release();
  });

  it('reports an undecryptable lock file instead of crashing, and ignores it', async () => {
    const ctx = makeCtx();
    const c = clock();
    const foreign = makeCtx(ctx.storage); // another key: cannot be opened with ours
    await putSealedJson(foreign, `locks/${randomId()}`, { exclusive: true });
    await ctx.storage.put(`locks/${randomId()}`, Buffer.from('garbage'));
    const warnings: string[] = [];
    const lock = await acquireLock(ctx, base(c, { exclusive: true, onWarning: (m) => warnings.push(m) }));
    expect(warnings).toHaveLength(2);
    expect(lock.warnings).toEqual(warnings);
    expect(warnings[0]).toMatch(/cannot be read/);
    const listed = await listLocks(ctx, { now: c.now });
    expect(listed.filter((l) => !l.readable)).toHaveLength(2);
    expect(listed.find((l) => !l.readable && l.error.includes('integrity'))).toBeDefined();
    await lock.release();
  });

  it('backs off when a conflicting lock appears between its write and its re-check', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const c = clock();
    let rivalKey = '';
    storage.afterPut = async (key) => {
      if (rivalKey) return;
      rivalKey = `locks/${randomId()}`;
      // A rival writes its lock right after ours landed, before we list again.
      await putSealedJson(ctx, rivalKey, {
        exclusive: true,
        host: 'rival',
        pid: 7,
        user: 'eve',
        time: new Date(c.now()).toISOString(),
        expires: new Date(c.now() + 60_000).toISOString(),
      } satisfies LockFile);
      expect(key).not.toBe(rivalKey);
    };
    const err = await acquireLock(ctx, base(c, { exclusive: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as Error).message).toContain('at the same moment');
    expect((err as Error).message).toContain('eve@rival');
    expect(await keys(storage)).toEqual([rivalKey]); // ours was removed, the rival's stays
  });

  it('never lets two exclusive lockers (or exclusive + shared) hold at once, under random interleavings', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const c = clock();
    const random = rng(42);
    storage.beforeOp = async () => {
      const n = Math.floor(random() * 4);
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    let someoneWon = 0;
    for (let round = 0; round < 60; round++) {
      const kinds = [true, true, true, random() < 0.5, random() < 0.5];
      const results = await Promise.allSettled(kinds.map((exclusive, i) => acquireLock(ctx, base(c, { exclusive, pid: i }))));
      const winners = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError);
      if (winners.some((w) => w.exclusive)) expect(winners).toHaveLength(1);
      // Losers cleaned up after themselves: exactly the winners' files remain.
      expect(await keys(storage)).toEqual(winners.map((w) => w.key).sort());
      if (winners.length) someoneWon++;
      await Promise.all(winners.map((w) => w.release()));
    }
    expect(someoneWon).toBeGreaterThan(0);
  });

  it('keeps namespaces apart', async () => {
    const ctx = makeCtx();
    const c = clock();
    const repo = await acquireLock(ctx, base(c, { exclusive: true }));
    const audit = await acquireLock(ctx, base(c, { exclusive: true, namespace: 'audit' }));
    await expect(acquireLock(ctx, base(c, { exclusive: true, namespace: 'audit' }))).rejects.toThrow(LockedError);
    expect(audit.key).toBe(`locks/audit/${audit.id}`);
    const listed = await listLocks(ctx);
    expect(listed.map((l) => l.namespace).sort()).toEqual(['', 'audit']);
    await expect(acquireLock(ctx, base(c, { namespace: '../x' }))).rejects.toThrow(RangeError);
    await repo.release();
    await audit.release();
  });
});

describe('refresh', () => {
  it('refreshes on a timer, so a long operation keeps its lock past the ttl', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const ctx = makeCtx();
    const c = clock();
    const lock = await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 3_000, refreshMs: 1_000 }));
    for (let i = 0; i < 10; i++) {
      c.advance(1_000);
      await vi.advanceTimersByTimeAsync(1_000);
    }
    // 10 s later, with a 3 s ttl: still live, because the timer refreshed it.
    const file = await getSealedJson<LockFile>(ctx, lock.key);
    expect(Date.parse(file.expires)).toBeGreaterThan(c.now());
    expect(lock.expires).toBe(Date.parse(file.expires));
    await expect(acquireLock(ctx, base(c, { exclusive: true }))).rejects.toThrow(LockedError);
    await lock.release();
    // The timer stopped: nothing re-creates the file.
    c.advance(5_000);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await keys(ctx.storage)).toEqual([]);
  });

  it('without a timer, the lock turns stale after the ttl', async () => {
    const ctx = makeCtx();
    const c = clock();
    await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 3_000, refreshMs: 0 }));
    c.advance(3_001);
    const other = await acquireLock(ctx, base(c, { exclusive: true }));
    await other.release();
  });

  it('detects a lock removed by someone else: lost, signal aborted, onLost once', async () => {
    const ctx = makeCtx();
    const c = clock();
    const onLost = vi.fn();
    const lock = await acquireLock(ctx, base(c, { exclusive: true, onLost }));
    expect(await removeAllLocks(ctx)).toBe(1);
    await expect(lock.refresh()).rejects.toThrow(LockedError);
    await expect(lock.refresh()).rejects.toThrow(LockedError);
    expect(lock.lost).toBe(true);
    expect(lock.signal.aborted).toBe(true);
    expect(lock.signal.reason).toBeInstanceOf(LockedError);
    expect(onLost).toHaveBeenCalledTimes(1);
    await lock.release();
    expect(await keys(ctx.storage)).toEqual([]);
  });

  it('after oversleeping its expiry, gives the lock up if another process took over', async () => {
    const ctx = makeCtx();
    const c = clock();
    const sleeper = await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 60_000 }));
    c.advance(120_000);
    const taker = await acquireLock(ctx, base(c, { exclusive: true, host: 'host-b' }));
    const err = await sleeper.refresh().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect((err as Error).message).toContain('host-b');
    expect(sleeper.lost).toBe(true);
    expect(await keys(ctx.storage)).toEqual([taker.key]);
    await sleeper.release();
    expect(await keys(ctx.storage)).toEqual([taker.key]);
    await taker.release();
  });

  it('after oversleeping with nobody else around, simply extends the lock', async () => {
    const ctx = makeCtx();
    const c = clock();
    const lock = await acquireLock(ctx, base(c, { exclusive: true, ttlMs: 60_000 }));
    c.advance(120_000);
    await lock.refresh();
    expect(lock.lost).toBe(false);
    expect(lock.expires).toBe(c.now() + 60_000);
    await lock.release();
  });

  it('release waits for a refresh in flight, so the file is not re-created', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const c = clock();
    const lock = await acquireLock(ctx, base(c));
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    storage.beforeOp = () => blocked;
    const refreshing = lock.refresh();
    const releasing = lock.release();
    storage.beforeOp = undefined;
    unblock();
    await refreshing;
    await releasing;
    expect(await keys(storage)).toEqual([]);
  });
});

describe('listLocks / removeStaleLocks / removeAllLocks', () => {
  it('removes only stale readable locks; --remove-all removes everything', async () => {
    const ctx = makeCtx();
    const c = clock();
    await acquireLock(ctx, base(c, { ttlMs: 1_000 }));
    await acquireLock(ctx, base(c, { ttlMs: 1_000, namespace: 'audit' }));
    c.advance(2_000);
    const live = await acquireLock(ctx, base(c, { ttlMs: 60_000 }));
    await ctx.storage.put(`locks/${randomId()}`, Buffer.from('not sealed'));
    expect((await listLocks(ctx, { now: c.now })).filter((l) => l.stale)).toHaveLength(2);
    expect(await removeStaleLocks(ctx, { now: c.now })).toBe(2);
    expect(await removeStaleLocks(ctx, { now: c.now })).toBe(0);
    const left = await listLocks(ctx, { now: c.now });
    expect(left).toHaveLength(2);
    expect(left.find((l) => l.readable)!.id).toBe(live.id);
    expect(await removeAllLocks(ctx)).toBe(2);
    expect(await listLocks(ctx)).toEqual([]);
    await live.release(); // its file is gone already: harmless
  });

  it('describes a lock for people', () => {
    const file: LockFile = {
      exclusive: false,
      host: 'h',
      pid: 1,
      user: 'u',
      time: new Date(T0).toISOString(),
      expires: new Date(T0 + 90_000).toISOString(),
    };
    expect(describeLock(file, T0 + 2 * 3_600_000 + 60_000)).toBe(
      'a shared lock held by u@h (pid 1), acquired 2h1m ago, expired 1h59m ago',
    );
    expect(describeLock(file, T0 + 30_000)).toBe('a shared lock held by u@h (pid 1), acquired 30s ago, expires in 1m');
  });
});
