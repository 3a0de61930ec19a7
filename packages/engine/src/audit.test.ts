import { describe, expect, it } from 'vitest';
import {
  appendAudit,
  auditEntryHash,
  GENESIS_PREV,
  readAuditLog,
  verifyAuditLog,
  type AuditEntry,
  type AuditInput,
} from './audit.js';
import { canonicalJson } from './canonical-json.js';
import { createZstdCodec } from './compression.js';
import { getSealedJson, putSealedJson, type RepoContext } from './context.js';
import { deriveKeys, hmac, newMasterSecret, randomId } from './crypto.js';
import { IntegrityError, UsageError } from './errors.js';
import { MemoryStorage } from './storage/memory.js';
import type { ByteRange, ObjectInfo, Storage } from './storage/types.js';

function makeCtx(storage: Storage = new MemoryStorage()): RepoContext {
  return { storage, keys: deriveKeys(newMasterSecret()), codec: createZstdCodec() };
}

const event = (i: number, extra: Partial<AuditInput> = {}): AuditInput => ({
  actor: `user-${i}`,
  action: 'backup',
  target: `snap-${i}`,
  outcome: 'success',
  host: 'host-a',
  time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
  ...extra,
});

async function entryKeys(storage: Storage): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list('audit/')) out.push(o.key);
  return out.sort();
}

async function logOf(ctx: RepoContext, n: number): Promise<string[]> {
  for (let i = 1; i <= n; i++) await appendAudit(ctx, event(i));
  return entryKeys(ctx.storage);
}

/** Builds a correctly chained, correctly MAC'd entry with the given context's keys. */
function craft(ctx: RepoContext, fields: Omit<AuditEntry, 'mac'>): AuditEntry {
  return { ...fields, mac: hmac(ctx.keys.mac, canonicalJson(fields)).toString('hex') };
}

const keyFor = (seq: number) => `audit/${String(seq).padStart(12, '0')}-${randomId()}`;

/** Delegating storage that counts reads and can run hooks, to force interleavings. */
class HookStorage implements Storage {
  readonly location = 'memory://hooked';
  gets: string[] = [];
  afterPut?: (key: string) => Promise<void>;
  beforeOp?: () => Promise<void>;
  constructor(readonly inner: Storage) {}
  async get(key: string, range?: ByteRange) {
    await this.beforeOp?.();
    this.gets.push(key);
    return this.inner.get(key, range);
  }
  getStream(key: string) {
    return this.inner.getStream(key);
  }
  async put(key: string, data: Buffer | Uint8Array) {
    await this.beforeOp?.();
    await this.inner.put(key, data);
    await this.afterPut?.(key);
  }
  stat(key: string) {
    return this.inner.stat(key);
  }
  async exists(key: string) {
    await this.beforeOp?.();
    return this.inner.exists(key);
  }
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.beforeOp?.();
    const all: ObjectInfo[] = [];
    for await (const o of this.inner.list(prefix)) all.push(o);
    yield* all;
  }
  async delete(key: string) {
    await this.beforeOp?.();
    await this.inner.delete(key);
  }
  close() {
    return this.inner.close();
  }
}

function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('canonicalJson', () => {
  it('sorts keys at every level, omits undefined members, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it.each([
    ['strings with escapes', { s: 'é "q" \n \u2028 \ud800' }],
    ['numbers', { n: [0, -0, 1.5, 1e21, -1e-7, Number.MAX_SAFE_INTEGER] }],
    ['nested', { a: [[], {}, null, true, false], __proto__x: 1 }],
  ])('is stable across a JSON round trip (%s)', (_name, value) => {
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it.each([
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Infinity }],
    ['bigint', { n: 1n }],
    ['function', { f: () => 1 }],
    ['undefined in array', { a: [undefined] }],
    ['Date', { d: new Date(0) }],
    ['Map', { m: new Map() }],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });
});

describe('appendAudit / readAuditLog', () => {
  it('chains entries: seq 1.., prev = hash of the previous entry, MAC under the audit key', async () => {
    const ctx = makeCtx();
    const a = await appendAudit(ctx, event(1, { details: { bytes: 12, nested: { ok: true } }, namespace: 'shop' }));
    const b = await appendAudit(ctx, event(2, { outcome: 'failure', cluster: 'prod', context: 'prod-admin' }));
    const c = await appendAudit(ctx, event(3));
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect(a.prev).toBe(GENESIS_PREV);
    expect(b.prev).toBe(auditEntryHash(a));
    expect(c.prev).toBe(auditEntryHash(b));
    const { mac, ...fields } = a;
    expect(mac).toBe(hmac(ctx.keys.mac, canonicalJson(fields)).toString('hex'));
    expect(a).toMatchObject({ actor: 'user-1', action: 'backup', target: 'snap-1', namespace: 'shop', host: 'host-a' });
    expect(a.time).toBe('2026-01-01T00:01:00.000Z');

    const keys = await entryKeys(ctx.storage);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toMatch(/^audit\/000000000001-[0-9a-f]{64}$/);
    expect(keys[2]).toMatch(/^audit\/000000000003-/);
    expect(await readAuditLog(ctx)).toEqual([a, b, c]);
    expect(await readAuditLog(ctx, { since: 2 })).toEqual([b, c]);
    expect(await verifyAuditLog(ctx)).toEqual({ ok: true, entries: 3 });
    // Stored sealed: the actor does not appear in the bytes.
    expect((await ctx.storage.get(keys[0]!)).includes(Buffer.from('user-1'))).toBe(false);
  });

  it('reads only the newest entry to find the tail', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const keys = await logOf(ctx, 10);
    storage.gets = [];
    await appendAudit(ctx, event(11));
    expect(storage.gets.filter((k) => k.startsWith('audit/'))).toEqual([keys[9]]);
  });

  it('rejects bad input', async () => {
    const ctx = makeCtx();
    await expect(appendAudit(ctx, event(1, { actor: ' ' }))).rejects.toThrow(UsageError);
    await expect(appendAudit(ctx, event(1, { details: [1] as unknown as Record<string, unknown> }))).rejects.toThrow(UsageError);
    await expect(appendAudit(ctx, event(1, { details: { n: Number.NaN } }))).rejects.toThrow(UsageError);
    await expect(appendAudit(ctx, event(1, { time: 'not a time' }))).rejects.toThrow(UsageError);
    expect(await entryKeys(ctx.storage)).toEqual([]);
  });

  it('several concurrent appenders end with one valid chain holding every entry once', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const random = rng(7);
    storage.beforeOp = async () => {
      const n = Math.floor(random() * 3);
      for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
    };
    await appendAudit(ctx, event(0));
    const rounds = 5;
    const width = 8;
    for (let round = 0; round < rounds; round++) {
      const appended = await Promise.all(
        Array.from({ length: width }, (_, i) => appendAudit(ctx, event(1 + round * width + i))),
      );
      const from = 2 + round * width;
      expect(appended.map((e) => e.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: width }, (_, i) => from + i));
    }
    const total = 1 + rounds * width;
    const log = await readAuditLog(ctx);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(log.map((e) => e.actor).sort()).toEqual(Array.from({ length: total }, (_, i) => `user-${i}`).sort());
    expect(await verifyAuditLog(ctx)).toEqual({ ok: true, entries: total });
    // Nothing left behind: no duplicate entries, no audit locks.
    expect(await entryKeys(storage)).toHaveLength(total);
    const locks: string[] = [];
    for await (const o of storage.list('locks/')) locks.push(o.key);
    expect(locks).toEqual([]);
  });

  it('if another entry takes the same seq anyway (lost lock), backs off and chains after it', async () => {
    const storage = new HookStorage(new MemoryStorage());
    const ctx = makeCtx(storage);
    const first = await appendAudit(ctx, event(1));
    let intruder: AuditEntry | undefined;
    storage.afterPut = async (key) => {
      if (intruder || !key.startsWith('audit/000000000002-')) return;
      // A writer whose lock had expired appends seq 2 at the same moment.
      intruder = craft(ctx, { seq: 2, time: first.time, actor: 'paused', action: 'prune', outcome: 'success', host: 'h', prev: auditEntryHash(first) });
      await putSealedJson(ctx, keyFor(2), intruder);
    };
    const ours = await appendAudit(ctx, event(2));
    expect(ours.seq).toBe(3);
    expect(ours.prev).toBe(auditEntryHash(intruder!));
    expect((await readAuditLog(ctx)).map((e) => e.actor)).toEqual(['user-1', 'paused', 'user-2']);
    expect(await verifyAuditLog(ctx)).toEqual({ ok: true, entries: 3 });
  });

  it('refuses to extend a chain whose newest entry does not verify', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 3);
    const bytes = Buffer.from(await ctx.storage.get(keys[2]!));
    bytes[bytes.length - 5]! ^= 0x01;
    await ctx.storage.put(keys[2]!, bytes);
    await expect(appendAudit(ctx, event(4))).rejects.toThrow(IntegrityError);
    expect(await entryKeys(ctx.storage)).toHaveLength(3);
  });

  it('readAuditLog throws on a bad entry, or skips it with skipInvalid', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 3);
    await ctx.storage.put(keys[1]!, Buffer.from('garbage'));
    await expect(readAuditLog(ctx)).rejects.toThrow(IntegrityError);
    expect((await readAuditLog(ctx, { skipInvalid: true })).map((e) => e.seq)).toEqual([1, 3]);
  });
});

describe('verifyAuditLog detects tampering', () => {
  it('an empty log is fine', async () => {
    expect(await verifyAuditLog(makeCtx())).toEqual({ ok: true, entries: 0 });
  });

  it('edited bytes of an entry object', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    const bytes = Buffer.from(await ctx.storage.get(keys[1]!));
    bytes[20]! ^= 0x80;
    await ctx.storage.put(keys[1]!, bytes);
    const r = await verifyAuditLog(ctx);
    expect(r.ok).toBe(false);
    expect(r.entries).toBe(5);
    expect(r.firstBad).toMatchObject({ seq: 2, key: keys[1] });
    expect(r.firstBad!.reason).toMatch(/cannot be decrypted or authenticated/);
  });

  it('a deleted middle entry (gap)', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    await ctx.storage.delete(keys[2]!);
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 4, key: keys[3] });
    expect(r.firstBad!.reason).toMatch(/gap: entry 3 missing/);
  });

  it('a deleted first entry', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 3);
    await ctx.storage.delete(keys[0]!);
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 2, key: keys[1] });
    expect(r.firstBad!.reason).toMatch(/gap/);
  });

  it('two entries swapped', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    const [b2, b3] = [await ctx.storage.get(keys[1]!), await ctx.storage.get(keys[2]!)];
    await ctx.storage.put(keys[1]!, b3);
    await ctx.storage.put(keys[2]!, b2);
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 2, key: keys[1] });
    expect(r.firstBad!.reason).toMatch(/holds seq 3 but is stored as seq 2/);
  });

  it('an entry re-encrypted with a changed field but its old MAC', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    const entry = await getSealedJson<AuditEntry>(ctx, keys[2]!);
    await putSealedJson(ctx, keys[2]!, { ...entry, outcome: 'failure' });
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 3, key: keys[2] });
    expect(r.firstBad!.reason).toMatch(/bad MAC/);
  });

  it('an entry with an added field and its old MAC', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 2);
    const entry = await getSealedJson<AuditEntry>(ctx, keys[0]!);
    await putSealedJson(ctx, keys[0]!, { ...entry, details: { note: 'added later' } });
    expect((await verifyAuditLog(ctx)).firstBad).toMatchObject({ seq: 1, reason: expect.stringMatching(/bad MAC/) });
  });

  it('a forged entry appended by someone with the encryption key but not the audit key', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    const tail = await getSealedJson<AuditEntry>(ctx, keys[4]!);
    const forger: RepoContext = { ...ctx, keys: { ...ctx.keys, mac: Buffer.alloc(32, 7) } };
    const forged = craft(forger, { seq: 6, time: tail.time, actor: 'mallory', action: 'restore', outcome: 'success', host: 'x', prev: auditEntryHash(tail) });
    const key = keyFor(6);
    await putSealedJson(forger, key, forged);
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 6, key });
    expect(r.firstBad!.reason).toMatch(/bad MAC/);
  });

  it('a forged entry written without any key', async () => {
    const ctx = makeCtx();
    await logOf(ctx, 2);
    const key = keyFor(3);
    await putSealedJson(makeCtx(ctx.storage), key, { seq: 3 }); // other keys, same storage
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 3, key, reason: expect.stringMatching(/cannot be decrypted/) });
  });

  it('a duplicated entry (same seq twice)', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 4);
    const copy = `audit/000000000003-${'f'.repeat(64)}`;
    await ctx.storage.put(copy, await ctx.storage.get(keys[2]!));
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 3, key: copy, reason: 'duplicate seq 3' });
  });

  it('an old entry replayed as a new one', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 3);
    const key = keyFor(4);
    await ctx.storage.put(key, await ctx.storage.get(keys[1]!));
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 4, key, reason: expect.stringMatching(/holds seq 2/) });
  });

  it('a broken prev link, even with a valid MAC (entries removed and the rest renumbered by an insider)', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 4);
    const e4 = await getSealedJson<AuditEntry>(ctx, keys[3]!);
    await ctx.storage.delete(keys[2]!);
    await ctx.storage.delete(keys[3]!);
    const { mac: _mac, ...fields } = e4;
    const renumbered = craft(ctx, { ...fields, seq: 3 });
    const key = keyFor(3);
    await putSealedJson(ctx, key, renumbered);
    const r = await verifyAuditLog(ctx);
    expect(r.firstBad).toMatchObject({ seq: 3, key, reason: expect.stringMatching(/broken chain/) });
  });

  it('reports the first bad entry when there are several', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 6);
    await ctx.storage.delete(keys[4]!);
    await ctx.storage.put(keys[1]!, Buffer.from('garbage'));
    expect((await verifyAuditLog(ctx)).firstBad).toMatchObject({ seq: 2, key: keys[1] });
  });

  it('objects under audit/ that are not entries', async () => {
    const ctx = makeCtx();
    await logOf(ctx, 2);
    await ctx.storage.put('audit/readme.txt', Buffer.from('hi'));
    expect((await verifyAuditLog(ctx)).firstBad).toMatchObject({ seq: -1, key: 'audit/readme.txt' });
  });

  it('truncation and rewritten history, given a head seen before', async () => {
    const ctx = makeCtx();
    const keys = await logOf(ctx, 5);
    const log = await readAuditLog(ctx);
    const head = { seq: 5, hash: auditEntryHash(log[4]!) };
    expect(await verifyAuditLog(ctx, { expectedHead: head })).toEqual({ ok: true, entries: 5 });
    expect((await verifyAuditLog(ctx, { expectedHead: { seq: 3, hash: auditEntryHash(log[2]!) } })).ok).toBe(true);
    expect((await verifyAuditLog(ctx, { expectedHead: { seq: 3, hash: auditEntryHash(log[1]!) } })).firstBad?.reason).toMatch(
      /differs/,
    );
    await ctx.storage.delete(keys[4]!);
    await ctx.storage.delete(keys[3]!);
    expect((await verifyAuditLog(ctx)).ok).toBe(true); // undetectable without a head…
    const r = await verifyAuditLog(ctx, { expectedHead: head });
    expect(r.firstBad).toMatchObject({ seq: 5, reason: expect.stringMatching(/truncated/) }); // …detected with one
  });
});
