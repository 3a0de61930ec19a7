/**
 * Repository locks, restic-style: a lock is a sealed JSON file `locks/<randomId>`; nothing
 * relies on conditional writes (s3rver and some S3-compatible stores ignore `If-None-Match`).
 *
 * Acquiring: list the locks → refuse if a live conflicting lock exists (exclusive conflicts
 * with everything, shared only with exclusive) → write ours → list again → if a conflicting
 * lock appeared meanwhile, delete ours and refuse.
 *
 * The tie rule after writing is "everybody who sees a conflict backs off". It is the only
 * rule that is safe without conditional writes: of two lockers that both write and then list,
 * the one that lists last always sees the other's lock (read-after-write), so at most one of
 * them can see no conflict. A rule like "the lower id wins" is NOT safe: A may see B's
 * higher-id lock and win, while B listed before A's write landed and also saw nothing — two
 * winners. The price is that two simultaneous lockers may both fail; callers retry.
 *
 * A lock lives until `expires`; the holder refreshes it on a timer (every ttl/3 by default),
 * so long operations keep it and a crashed holder's lock turns stale after at most ttl.
 * Stale (expired) locks are ignored by acquire and can be deleted with removeStaleLocks
 * (`kubectl backup repo unlock`). A lock file that cannot be decrypted is reported (warning,
 * `readable: false` in listings) and otherwise ignored: every legitimate lock opens with the
 * repository key, so such a file is corruption or foreign, and it can be deleted with
 * removeAllLocks (`unlock --remove-all`).
 *
 * If a refresh finds the lock file gone (someone ran `unlock --remove-all`) or finds that the
 * lock had expired and a conflicting lock exists now, the lock is *lost*: `signal` aborts,
 * `onLost` is called and further refreshes throw LockedError. Long operations should watch
 * `lock.signal`.
 *
 * Locks in a sub-namespace (`locks/<namespace>/<id>`, e.g. the audit log's short append lock)
 * only conflict with locks of the same namespace.
 */
import { hostname, userInfo } from 'node:os';
import { getSealedJson, putSealedJson, type RepoContext } from './context.js';
import { randomId } from './crypto.js';
import { LockedError, NotFoundError } from './errors.js';

export const LOCKS_PREFIX = 'locks/';
const DEFAULT_TTL_MS = 5 * 60_000;
const NAMESPACE = /^[a-z0-9][a-z0-9-]*$/;
const ID = /^[0-9a-f]{64}$/;

/** The sealed content of a lock file. Times are ISO-8601 strings. */
export interface LockFile {
  exclusive: boolean;
  host: string;
  pid: number;
  user: string;
  /** When the lock was acquired. */
  time: string;
  /** When it turns stale unless refreshed. */
  expires: string;
}

export interface AcquireLockOptions {
  exclusive: boolean;
  host?: string;
  user?: string;
  pid?: number;
  /** Lifetime after each refresh. Default 5 minutes. */
  ttlMs?: number;
  /** Refresh period. Default ttlMs / 3. 0 disables the timer (refresh by hand). */
  refreshMs?: number;
  /**
   * Extra time after `expires` before another process treats a lock as stale (clock skew
   * between hosts). Default 0: stale as soon as `expires < now`.
   */
  staleGraceMs?: number;
  /** Sub-namespace under `locks/`; locks only conflict within their namespace. Default: repository locks. */
  namespace?: string;
  /** Clock (ms since epoch), for tests. Default Date.now. */
  now?: () => number;
  /** Called once if the lock is lost (see module comment). */
  onLost?: (error: LockedError) => void;
  /** Non-fatal findings: unreadable lock files, failed background refreshes. */
  onWarning?: (message: string) => void;
}

export interface Lock {
  readonly id: string;
  readonly key: string;
  readonly exclusive: boolean;
  /** Current expiry (ms since epoch), moved forward by each refresh. */
  readonly expires: number;
  /** True once the lock was found removed or taken over. */
  readonly lost: boolean;
  /** Aborted (with a LockedError reason) when the lock is lost. */
  readonly signal: AbortSignal;
  /** Warnings collected while acquiring (e.g. unreadable lock files). */
  readonly warnings: readonly string[];
  /** Extends the expiry now. Throws LockedError if the lock is lost. No-op after release. */
  refresh(): Promise<void>;
  /** Stops refreshing and deletes the lock file. Idempotent. */
  release(): Promise<void>;
}

export type ListedLock =
  | ({ readable: true; id: string; key: string; namespace: string; stale: boolean } & LockFile)
  | { readable: false; id: string; key: string; namespace: string; stale: false; error: string };

interface ListOptions {
  now?: () => number;
  staleGraceMs?: number;
}

function defaultUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

function parseLockKey(key: string): { id: string; namespace: string } | undefined {
  const rest = key.slice(LOCKS_PREFIX.length).split('/');
  if (rest.length === 1 && ID.test(rest[0]!)) return { id: rest[0]!, namespace: '' };
  if (rest.length === 2 && NAMESPACE.test(rest[0]!) && ID.test(rest[1]!)) return { id: rest[1]!, namespace: rest[0]! };
  return undefined;
}

function isLockFile(v: unknown): v is LockFile {
  const o = v as Record<string, unknown> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.exclusive === 'boolean' &&
    typeof o.host === 'string' &&
    typeof o.pid === 'number' &&
    typeof o.user === 'string' &&
    typeof o.time === 'string' &&
    typeof o.expires === 'string' &&
    !Number.isNaN(Date.parse(o.expires))
  );
}

function isStale(file: LockFile, now: number, graceMs: number): boolean {
  return Date.parse(file.expires) + graceMs < now;
}

/** Reads every lock (all namespaces); vanished files are skipped, unreadable ones reported. */
async function readLocks(ctx: RepoContext, prefix: string, opts: ListOptions): Promise<ListedLock[]> {
  const now = (opts.now ?? Date.now)();
  const grace = opts.staleGraceMs ?? 0;
  const keys: string[] = [];
  for await (const info of ctx.storage.list(prefix)) keys.push(info.key);
  keys.sort();
  const out = await Promise.all(
    keys.map(async (key): Promise<ListedLock | undefined> => {
      const parsed = parseLockKey(key);
      const namespace = parsed?.namespace ?? '';
      const id = parsed?.id ?? key.slice(LOCKS_PREFIX.length);
      if (!parsed) return { readable: false, id, key, namespace, stale: false, error: 'not a lock file name' };
      try {
        const file = await getSealedJson<unknown>(ctx, key);
        if (!isLockFile(file)) return { readable: false, id, key, namespace, stale: false, error: 'malformed lock file' };
        return { readable: true, id, key, namespace, stale: isStale(file, now, grace), ...pickLockFile(file) };
      } catch (err) {
        if (err instanceof NotFoundError) return undefined; // released meanwhile
        return { readable: false, id, key, namespace, stale: false, error: (err as Error).message };
      }
    }),
  );
  return out.filter((l): l is ListedLock => l !== undefined);
}

function pickLockFile(f: LockFile): LockFile {
  return { exclusive: f.exclusive, host: f.host, pid: f.pid, user: f.user, time: f.time, expires: f.expires };
}

/** Every lock of the repository, all namespaces, sorted by key, with a stale flag. */
export async function listLocks(ctx: RepoContext, opts: ListOptions = {}): Promise<ListedLock[]> {
  return readLocks(ctx, LOCKS_PREFIX, opts);
}

/** Deletes expired locks (re-reading each just before, in case it was refreshed). Returns how many. */
export async function removeStaleLocks(ctx: RepoContext, opts: ListOptions = {}): Promise<number> {
  let removed = 0;
  for (const lock of await listLocks(ctx, opts)) {
    if (!lock.readable || !lock.stale) continue;
    try {
      const again = await getSealedJson<unknown>(ctx, lock.key);
      if (!isLockFile(again) || !isStale(again, (opts.now ?? Date.now)(), opts.staleGraceMs ?? 0)) continue;
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    await ctx.storage.delete(lock.key);
    removed++;
  }
  return removed;
}

/** Deletes every object under `locks/`, live, stale or unreadable. Returns how many. */
export async function removeAllLocks(ctx: RepoContext): Promise<number> {
  const keys: string[] = [];
  for await (const info of ctx.storage.list(LOCKS_PREFIX)) keys.push(info.key);
  for (const key of keys) await ctx.storage.delete(key);
  return keys.length;
}

function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d${h % 24 ? `${h % 24}h` : ''}`;
}

/** "exclusive lock held by alice@host-1 (pid 42), acquired 3m ago, expires in 2m". */
export function describeLock(lock: LockFile, now: number): string {
  const kind = lock.exclusive ? 'an exclusive' : 'a shared';
  const acquired = Date.parse(lock.time);
  const expires = Date.parse(lock.expires);
  const age = Number.isNaN(acquired) ? 'at an unknown time' : `${formatAge(now - acquired)} ago`;
  const exp = expires >= now ? `expires in ${formatAge(expires - now)}` : `expired ${formatAge(now - expires)} ago`;
  return `${kind} lock held by ${lock.user}@${lock.host} (pid ${lock.pid}), acquired ${age}, ${exp}`;
}

function lockedMessage(conflicts: LockFile[], now: number, location: string, raced: boolean): string {
  const first = conflicts[0]!;
  const more = conflicts.length > 1 ? ` and ${conflicts.length - 1} more` : '';
  const head = raced
    ? `repository ${location} was locked by another process at the same moment (${describeLock(first, now)}${more}); try again`
    : `repository ${location} is already locked: ${describeLock(first, now)}${more}`;
  return `${head}. If that process is no longer running, remove its lock with "kubectl backup repo unlock" (or wait until it expires).`;
}

const conflictsWith = (exclusive: boolean) => (l: ListedLock) =>
  l.readable && !l.stale && (exclusive || l.exclusive);

/**
 * Acquires a shared or exclusive lock, or throws LockedError naming the holder. The returned
 * lock refreshes itself on an unref'd timer until released.
 */
export async function acquireLock(ctx: RepoContext, options: AcquireLockOptions): Promise<Lock> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  if (!(ttlMs > 0)) throw new RangeError('ttlMs must be positive');
  const refreshMs = options.refreshMs ?? Math.floor(ttlMs / 3);
  const graceMs = options.staleGraceMs ?? 0;
  const namespace = options.namespace ?? '';
  if (namespace !== '' && !NAMESPACE.test(namespace)) throw new RangeError(`invalid lock namespace ${namespace}`);
  const prefix = namespace ? `${LOCKS_PREFIX}${namespace}/` : LOCKS_PREFIX;
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    options.onWarning?.(m);
  };
  const listOpts = { now, staleGraceMs: graceMs };
  const sameNamespace = async () => {
    const all = await readLocks(ctx, prefix, listOpts);
    return all.filter((l) => l.namespace === namespace);
  };
  const reportUnreadable = (locks: ListedLock[]) => {
    for (const l of locks) {
      if (!l.readable && !warnings.some((w) => w.includes(l.key))) {
        warn(`ignoring lock ${l.key} that cannot be read (${l.error}); "kubectl backup repo unlock --remove-all" removes it`);
      }
    }
  };

  const before = await sameNamespace();
  reportUnreadable(before);
  const blocking = before.filter(conflictsWith(options.exclusive)) as (ListedLock & LockFile)[];
  if (blocking.length > 0) throw new LockedError(lockedMessage(blocking, now(), ctx.storage.location, false));

  const id = randomId();
  const key = `${prefix}${id}`;
  const acquiredAt = now();
  const file: LockFile = {
    exclusive: options.exclusive,
    host: options.host ?? hostname(),
    pid: options.pid ?? process.pid,
    user: options.user ?? defaultUser(),
    time: new Date(acquiredAt).toISOString(),
    expires: new Date(acquiredAt + ttlMs).toISOString(),
  };
  await putSealedJson(ctx, key, file);

  const checkAfterWrite = async (): Promise<(ListedLock & LockFile)[]> => {
    const after = await sameNamespace();
    reportUnreadable(after);
    return after.filter((l) => l.id !== id && conflictsWith(options.exclusive)(l)) as (ListedLock & LockFile)[];
  };
  let raced: (ListedLock & LockFile)[];
  try {
    raced = await checkAfterWrite();
  } catch (err) {
    await ctx.storage.delete(key).catch(() => undefined);
    throw err;
  }
  if (raced.length > 0) {
    await ctx.storage.delete(key);
    throw new LockedError(lockedMessage(raced, now(), ctx.storage.location, true));
  }

  return new HeldLock(ctx, key, id, file, ttlMs, refreshMs, now, checkAfterWrite, options, warnings);
}

class HeldLock implements Lock {
  readonly signal: AbortSignal;
  expires: number;
  lost = false;
  private released = false;
  private releasing: Promise<void> | undefined;
  private inflight: Promise<void> | undefined;
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly ctx: RepoContext,
    readonly key: string,
    readonly id: string,
    private file: LockFile,
    private readonly ttlMs: number,
    refreshMs: number,
    private readonly now: () => number,
    private readonly conflicts: () => Promise<LockFile[]>,
    private readonly options: AcquireLockOptions,
    readonly warnings: readonly string[],
  ) {
    this.signal = this.controller.signal;
    this.expires = Date.parse(file.expires);
    if (refreshMs > 0) {
      this.timer = setInterval(() => {
        this.refresh().catch((err: unknown) => {
          if (!this.lost) this.options.onWarning?.(`lock refresh failed, will retry: ${(err as Error).message}`);
        });
      }, refreshMs);
      this.timer.unref?.();
    }
  }

  get exclusive(): boolean {
    return this.file.exclusive;
  }

  refresh(): Promise<void> {
    if (this.released) return Promise.resolve();
    if (this.lost) return Promise.reject(this.lostError());
    // One refresh at a time; callers arriving meanwhile share it.
    this.inflight ??= this.doRefresh().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async doRefresh(): Promise<void> {
    if (!(await this.ctx.storage.exists(this.key))) {
      return this.markLost(`lock ${this.key} was removed by someone else (e.g. "kubectl backup repo unlock --remove-all")`);
    }
    const t = this.now();
    if (this.expires < t) {
      // We overslept: others were entitled to ignore our lock. Keep it only if nobody took over.
      const others = await this.conflicts();
      if (others.length > 0) {
        await this.ctx.storage.delete(this.key);
        return this.markLost(`lock ${this.key} expired before it was refreshed and ${describeLock(others[0]!, t)}`);
      }
    }
    if (this.released) return;
    const next: LockFile = { ...this.file, expires: new Date(t + this.ttlMs).toISOString() };
    await putSealedJson(this.ctx, this.key, next);
    this.file = next;
    this.expires = t + this.ttlMs;
  }

  private lostError(reason?: string): LockedError {
    return new LockedError(reason ?? `lock ${this.key} was lost; the operation must stop`);
  }

  private markLost(reason: string): never {
    const err = this.lostError(`${reason}; the operation holding it must stop`);
    if (!this.lost) {
      this.lost = true;
      this.stopTimer();
      this.controller.abort(err);
      this.options.onLost?.(err);
    }
    throw err;
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  release(): Promise<void> {
    this.releasing ??= (async () => {
      this.released = true;
      this.stopTimer();
      // Wait for a refresh in flight, so it cannot re-create the file after we delete it.
      await this.inflight?.catch(() => undefined);
      if (!this.lost) await this.ctx.storage.delete(this.key);
    })().catch((err: unknown) => {
      this.releasing = undefined; // let the caller retry a failed delete
      throw err;
    });
    return this.releasing;
  }
}
