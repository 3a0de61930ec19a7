/**
 * Append-only, hash-chained audit log stored in the repository.
 *
 * Each entry is a sealed JSON object `audit/<seq, 12 digits>-<randomId>` holding `seq`, the
 * event, `prev` (SHA-256 hex of the previous entry's canonical JSON, mac included; 64 zeros for
 * seq 1) and `mac` (HMAC-SHA256 under `keys.mac` of the canonical JSON of every other field).
 * Sealing already authenticates each object; the chain adds what sealing cannot: a deleted,
 * duplicated, moved or reordered entry breaks the sequence or the `prev` link, and the MAC
 * ties every entry to the audit key (forging needs it, not only the encryption key).
 *
 * Not detectable from the log alone: removing the newest entries (truncation). Callers that
 * remember a head (seq + hash, e.g. the portal's ingest) pass it to verifyAuditLog as
 * `expectedHead` to detect that too.
 *
 * Concurrent appends: the storage has no conditional writes, and a "write, list the same seq,
 * lowest key wins, losers delete and retry" scheme alone is not safe — a third appender can
 * chain onto a loser's entry in the moment before the loser deletes it, and a late writer with
 * a lower key can "win" against an entry whose writer already saw no competitor and returned.
 * So appends are serialised by a short exclusive lock in its own namespace (`locks/audit/`,
 * which never conflicts with repository locks; see lock.ts for why that lock is safe), with
 * randomised back-off while it is busy. As a second line of defence (the lock could be lost,
 * e.g. a process paused past its ttl), an appender lists its seq after writing and, if another
 * entry has the same seq, deletes its own and retries on top of the new tail.
 */
import { hostname } from 'node:os';
import { canonicalJson } from './canonical-json.js';
import { getSealedJson, putSealedJson, type RepoContext } from './context.js';
import { constantTimeEqual, hmac, randomId, sha256Hex } from './crypto.js';
import { IntegrityError, LockedError, NotFoundError, UsageError } from './errors.js';
import { acquireLock, type Lock } from './lock.js';

export const AUDIT_PREFIX = 'audit/';
/** `prev` of the first entry. */
export const GENESIS_PREV = '0'.repeat(64);
const SEQ_DIGITS = 12;
const KEY_RE = /^audit\/(\d{12})-([0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;
const READ_CONCURRENCY = 16;

export type AuditOutcome = 'success' | 'failure' | 'partial' | 'started' | 'denied' | (string & {});

/** What a caller records. */
export interface AuditInput {
  /** Who: a user (`alice`), a service (`backstage:user:default/alice`), a schedule. */
  actor: string;
  /** What: `backup`, `restore`, `forget`, `prune`, `key.add`, `unlock`… */
  action: string;
  /** On what: a snapshot id, a namespace, a key id. */
  target?: string;
  outcome: AuditOutcome;
  /** Any JSON object (no NaN/Infinity, no class instances). */
  details?: Record<string, unknown>;
  cluster?: string;
  context?: string;
  namespace?: string;
  /** Default: os.hostname(). */
  host?: string;
  /** Default: now. */
  time?: string | Date;
}

export interface AuditEntry {
  seq: number;
  /** ISO-8601. */
  time: string;
  actor: string;
  action: string;
  target?: string;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
  cluster?: string;
  context?: string;
  namespace?: string;
  host: string;
  prev: string;
  mac: string;
}

export interface AppendAuditOptions {
  /** How long to wait for a busy audit log (another append in progress). Default 2 minutes. */
  lockWaitMs?: number;
  /** Lifetime of the append lock if this process dies mid-append. Default 30 s. */
  lockTtlMs?: number;
}

export interface VerifyAuditResult {
  ok: boolean;
  /** Entry objects found in the log. */
  entries: number;
  /** The first problem in log order. */
  firstBad?: { seq: number; key: string; reason: string };
}

const pad = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** SHA-256 hex of an entry's canonical JSON (mac included): the next entry's `prev`. */
export function auditEntryHash(entry: AuditEntry): string {
  return sha256Hex(Buffer.from(canonicalJson(entry), 'utf8'));
}

function computeMac(ctx: RepoContext, entry: Omit<AuditEntry, 'mac'> & { mac?: string }): string {
  const { mac: _mac, ...fields } = entry;
  return hmac(ctx.keys.mac, canonicalJson(fields)).toString('hex');
}

function macMatches(ctx: RepoContext, entry: AuditEntry): boolean {
  if (typeof entry.mac !== 'string' || !HEX64.test(entry.mac)) return false;
  return constantTimeEqual(Buffer.from(computeMac(ctx, entry), 'hex'), Buffer.from(entry.mac, 'hex'));
}

const OPTIONAL_STRINGS = ['target', 'cluster', 'context', 'namespace'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function malformation(e: unknown): string | undefined {
  if (!isPlainObject(e)) return 'not an object';
  if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return 'seq is not a positive integer';
  for (const f of ['time', 'actor', 'action', 'outcome', 'host', 'prev', 'mac'] as const) {
    if (typeof e[f] !== 'string') return `${f} is missing or not a string`;
  }
  for (const f of OPTIONAL_STRINGS) if (e[f] !== undefined && typeof e[f] !== 'string') return `${f} is not a string`;
  if (e.details !== undefined && !isPlainObject(e.details)) return 'details is not an object';
  if (!HEX64.test(e.prev as string)) return 'prev is not a SHA-256 hex digest';
  return undefined;
}

interface ParsedKey {
  key: string;
  seq: number;
}

async function listEntryKeys(ctx: RepoContext): Promise<{ entries: ParsedKey[]; foreign: string[] }> {
  const entries: ParsedKey[] = [];
  const foreign: string[] = [];
  for await (const { key } of ctx.storage.list(AUDIT_PREFIX)) {
    const m = KEY_RE.exec(key);
    if (m) entries.push({ key, seq: Number(m[1]) });
    else foreign.push(key);
  }
  // Zero-padded seq first, so key order is log order; equal seqs by key (lowest first).
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  foreign.sort();
  return { entries, foreign };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Reads and authenticates one entry; IntegrityError if it does not check out. */
async function loadEntry(ctx: RepoContext, k: ParsedKey): Promise<AuditEntry> {
  const raw = await getSealedJson<unknown>(ctx, k.key);
  const bad = malformation(raw);
  if (bad) throw new IntegrityError(`audit entry ${k.key}: malformed (${bad})`);
  const entry = raw as AuditEntry;
  if (!macMatches(ctx, entry)) throw new IntegrityError(`audit entry ${k.key}: bad MAC`);
  if (entry.seq !== k.seq) throw new IntegrityError(`audit entry ${k.key}: holds seq ${entry.seq}, stored as seq ${k.seq}`);
  return entry;
}

function validateInput(input: AuditInput): void {
  for (const f of ['actor', 'action', 'outcome'] as const) {
    if (typeof input[f] !== 'string' || input[f].trim() === '') throw new UsageError(`audit entry needs a non-empty ${f}`);
  }
  for (const f of OPTIONAL_STRINGS) {
    if (input[f] !== undefined && typeof input[f] !== 'string') throw new UsageError(`audit entry ${f} must be a string`);
  }
  if (input.details !== undefined) {
    if (!isPlainObject(input.details)) throw new UsageError('audit entry details must be a plain JSON object');
    try {
      canonicalJson(input.details);
    } catch (err) {
      throw new UsageError(`audit entry details are not JSON: ${(err as Error).message}`);
    }
  }
}

function entryTime(time: string | Date | undefined): string {
  const t = time === undefined ? new Date() : new Date(time);
  if (Number.isNaN(t.getTime())) throw new UsageError(`invalid audit entry time ${String(time)}`);
  return t.toISOString();
}

class Collision extends Error {}

/**
 * Appends one entry and returns it. Reads only the newest entry (after listing the keys).
 * Throws IntegrityError if the newest entry does not authenticate (the chain is not extended
 * on top of tampered data; run verifyAuditLog), LockedError if the log stays busy longer
 * than `lockWaitMs`.
 */
export async function appendAudit(ctx: RepoContext, input: AuditInput, options: AppendAuditOptions = {}): Promise<AuditEntry> {
  validateInput(input);
  const lockWaitMs = options.lockWaitMs ?? 120_000;
  const deadline = Date.now() + lockWaitMs;
  for (let attempt = 0; ; attempt++) {
    let lock: Lock;
    try {
      lock = await acquireLock(ctx, { exclusive: true, namespace: 'audit', ttlMs: options.lockTtlMs ?? 30_000 });
    } catch (err) {
      if (!(err instanceof LockedError)) throw err;
      if (Date.now() >= deadline) {
        throw new LockedError(`audit log is busy (gave up after ${lockWaitMs} ms): ${err.message}`);
      }
      await sleep(Math.random() * Math.min(1_000, 10 * 2 ** Math.min(attempt, 10)));
      continue;
    }
    try {
      return await appendUnderLock(ctx, input);
    } catch (err) {
      if (!(err instanceof Collision)) throw err;
      if (Date.now() >= deadline) throw new LockedError(`audit log is busy: ${err.message}`);
    } finally {
      await lock.release().catch(() => undefined);
    }
    await sleep(Math.random() * Math.min(1_000, 10 * 2 ** Math.min(attempt, 10)));
  }
}

async function appendUnderLock(ctx: RepoContext, input: AuditInput): Promise<AuditEntry> {
  const { entries } = await listEntryKeys(ctx);
  let seq = 1;
  let prev = GENESIS_PREV;
  const last = entries.at(-1);
  if (last) {
    // Lowest key of the highest seq (duplicates are for verifyAuditLog to report).
    const tailKey = entries.find((e) => e.seq === last.seq)!;
    let tail: AuditEntry;
    try {
      tail = await loadEntry(ctx, tailKey);
    } catch (err) {
      if (err instanceof NotFoundError) throw new Collision(`newest audit entry ${tailKey.key} vanished`);
      throw new IntegrityError(
        `refusing to append to the audit log: its newest entry does not verify (${(err as Error).message}); run the audit log verification`,
        { cause: err },
      );
    }
    seq = tail.seq + 1;
    prev = auditEntryHash(tail);
  }
  const body: Omit<AuditEntry, 'mac'> = {
    seq,
    time: entryTime(input.time),
    actor: input.actor,
    action: input.action,
    outcome: input.outcome,
    host: input.host ?? hostname(),
    prev,
  };
  for (const f of OPTIONAL_STRINGS) if (input[f] !== undefined) body[f] = input[f];
  if (input.details !== undefined) body.details = input.details;
  const entry: AuditEntry = { ...body, mac: computeMac(ctx, body) };
  // Store exactly what was MAC'd: the JSON round trip of the entry.
  const stored = JSON.parse(JSON.stringify(entry)) as AuditEntry;
  const key = `${AUDIT_PREFIX}${pad(seq)}-${randomId()}`;
  await putSealedJson(ctx, key, stored);

  const same: string[] = [];
  for await (const o of ctx.storage.list(`${AUDIT_PREFIX}${pad(seq)}-`)) if (o.key !== key) same.push(o.key);
  if (same.length > 0) {
    await ctx.storage.delete(key);
    throw new Collision(`another entry took seq ${seq} (${same[0]})`);
  }
  return stored;
}

/**
 * Entries sorted by seq (then key), optionally only those with `seq >= since`. Each entry's
 * seal and MAC are checked (IntegrityError, or skipped with `skipInvalid`); the chain as a
 * whole is verifyAuditLog's job.
 */
export async function readAuditLog(
  ctx: RepoContext,
  options: { since?: number; skipInvalid?: boolean } = {},
): Promise<AuditEntry[]> {
  const since = options.since ?? 1;
  const { entries } = await listEntryKeys(ctx);
  const wanted = entries.filter((e) => e.seq >= since);
  const loaded = await mapLimit(wanted, READ_CONCURRENCY, async (k) => {
    try {
      return await loadEntry(ctx, k);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      if (options.skipInvalid) return undefined;
      throw err instanceof IntegrityError ? err : new IntegrityError(`audit entry ${k.key}: ${(err as Error).message}`, { cause: err });
    }
  });
  return loaded.filter((e): e is AuditEntry => e !== undefined);
}

/**
 * Verifies the whole log and reports the first bad entry in log order: an object that does
 * not decrypt or authenticate, a malformed entry, a bad MAC, an entry stored under another
 * seq than it holds (moved/reordered), a duplicate seq, a gap (deleted entry), a broken `prev`
 * link; then objects under `audit/` that are not entries, and — with `expectedHead` — a log
 * that no longer reaches a head seen before (truncation) or disagrees with it.
 */
export async function verifyAuditLog(
  ctx: RepoContext,
  options: { expectedHead?: { seq: number; hash: string } } = {},
): Promise<VerifyAuditResult> {
  const { entries, foreign } = await listEntryKeys(ctx);
  type Loaded = { entry: AuditEntry } | { error: string };
  const loaded = await mapLimit(entries, READ_CONCURRENCY, async (k): Promise<Loaded> => {
    try {
      const raw = await getSealedJson<unknown>(ctx, k.key);
      const bad = malformation(raw);
      return bad ? { error: `malformed entry (${bad})` } : { entry: raw as AuditEntry };
    } catch (err) {
      if (err instanceof NotFoundError) return { error: 'object vanished while verifying' };
      return { error: `cannot be decrypted or authenticated (corrupted or tampered): ${(err as Error).message}` };
    }
  });
  const fail = (seq: number, key: string, reason: string): VerifyAuditResult => ({
    ok: false,
    entries: entries.length,
    firstBad: { seq, key, reason },
  });

  let prevHash = GENESIS_PREV;
  let prevSeq = 0;
  const hashes = new Map<number, string>();
  for (let i = 0; i < entries.length; i++) {
    const { key, seq } = entries[i]!;
    const item = loaded[i]!;
    if ('error' in item) return fail(seq, key, item.error);
    const entry = item.entry;
    if (!macMatches(ctx, entry)) return fail(seq, key, 'bad MAC: entry edited, or written without the audit key');
    if (entry.seq !== seq) return fail(seq, key, `entry holds seq ${entry.seq} but is stored as seq ${seq} (moved or reordered)`);
    if (seq === prevSeq) return fail(seq, key, `duplicate seq ${seq}`);
    if (seq !== prevSeq + 1) {
      const missing = seq - 1 === prevSeq + 1 ? `${prevSeq + 1}` : `${prevSeq + 1}–${seq - 1}`;
      return fail(seq, key, `gap: entry ${missing} missing (deleted) before seq ${seq}`);
    }
    if (entry.prev !== prevHash) {
      return fail(seq, key, `broken chain: prev does not match the hash of entry ${prevSeq || '(genesis)'}`);
    }
    prevHash = auditEntryHash(entry);
    prevSeq = seq;
    hashes.set(seq, prevHash);
  }
  if (foreign.length > 0) return fail(-1, foreign[0]!, 'unexpected object in the audit log (not an entry)');
  const head = options.expectedHead;
  if (head) {
    const lastKey = entries.at(-1)?.key ?? '';
    if (head.seq > prevSeq) {
      return fail(head.seq, lastKey, `truncated: the log ends at seq ${prevSeq} but seq ${head.seq} was seen before`);
    }
    if (head.seq >= 1 && hashes.get(head.seq) !== head.hash) {
      return fail(head.seq, entries.find((e) => e.seq === head.seq)?.key ?? lastKey, `entry ${head.seq} differs from the one seen before (history rewritten)`);
    }
  }
  return { ok: true, entries: entries.length };
}
