/**
 * Retry wrapper: retries transient storage failures with exponential backoff and full jitter
 * (delay = random(0, min(maxDelayMs, baseDelayMs · 2^attempt))). Permanent errors — missing
 * objects, read-only refusals, bad keys or ranges, usage, access and configuration errors —
 * are never retried (see `isPermanent`). After the last attempt the last error is thrown as is,
 * so callers still see the backend's error type.
 *
 * `list` restarts the listing after a failure and skips keys it already yielded, so callers
 * never see an object twice. `getStream` retries opening the stream only; an error while
 * reading it reaches the consumer. `close` is not retried.
 */
import { EngineError, NotFoundError, ReadOnlyError } from '../errors.js';
import type { ByteRange, ObjectInfo, Storage } from './types.js';

export interface RetryEvent {
  /** Storage method that failed (`get`, `put`, `list`…). */
  operation: string;
  /** Key (or list prefix) it was called with. */
  key: string;
  /** 1 for the first retry. */
  attempt: number;
  /** Wait before the next attempt. */
  delayMs: number;
  error: unknown;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** Upper bound of the first delay (default 200 ms); doubles each retry. */
  baseDelayMs?: number;
  /** Cap of the delay bound (default 10 s). */
  maxDelayMs?: number;
  /** Told before each wait, e.g. to log or report progress. */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter in [0, 1) (default Math.random); for tests. */
  random?: () => number;
  /** How to wait (default setTimeout); for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Engine error codes that retrying cannot fix. `EIO` (and unknown errors) are transient. */
const PERMANENT_CODES = new Set([
  'ENOTFOUND',
  'EREADONLY',
  'EKEY',
  'ERANGE',
  'EUSAGE',
  'EACCESS',
  'ENOSPACE',
  'ECONFLICT',
  'ENOBUCKET',
  'ECREDENTIALS',
  'ECONFIG',
  'ESTORAGE',
  'EPASSWORD',
  'EINTEGRITY',
  'ENOREPO',
  'ELOCKED',
]);

/** Node.js system error codes that retrying cannot fix. */
const PERMANENT_ERRNO = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'ENOSPC',
  'EDQUOT',
  'EISDIR',
  'ENOTDIR',
  'EEXIST',
  'ENOTEMPTY',
  'ENAMETOOLONG',
  'EINVAL',
  'ENOENT',
]);

/**
 * True if retrying `err` is pointless: the engine's permanent errors (not found, read-only,
 * invalid key or range, usage, access, configuration…), programming errors (TypeError,
 * RangeError…), file-system errors like EACCES, and anything marked `{ permanent: true }`.
 * Engine `EIO` errors, network errors and unknown errors are transient.
 */
export function isPermanent(err: unknown): boolean {
  if (err instanceof NotFoundError || err instanceof ReadOnlyError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const marked = (err as { permanent?: unknown }).permanent;
  if (typeof marked === 'boolean') return marked;
  if (err instanceof EngineError) return PERMANENT_CODES.has(err.code);
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && PERMANENT_ERRNO.has(code);
}

export class RetryingStorage implements Storage {
  readonly location: string;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onRetry?: (event: RetryEvent) => void;

  constructor(
    readonly inner: Storage,
    options: RetryOptions = {},
  ) {
    this.location = inner.location;
    this.retries = Math.max(0, options.retries ?? 5);
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? 200);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? 10_000);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.onRetry = options.onRetry;
  }

  get(key: string, range?: ByteRange): Promise<Buffer> {
    return this.run('get', key, () => this.inner.get(key, range));
  }

  getStream(key: string): Promise<NodeJS.ReadableStream> {
    return this.run('getStream', key, () => this.inner.getStream(key));
  }

  put(key: string, data: Buffer | Uint8Array): Promise<void> {
    return this.run('put', key, () => this.inner.put(key, data));
  }

  stat(key: string): Promise<ObjectInfo> {
    return this.run('stat', key, () => this.inner.stat(key));
  }

  exists(key: string): Promise<boolean> {
    return this.run('exists', key, () => this.inner.exists(key));
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const seen = new Set<string>();
    let failures = 0;
    for (;;) {
      let progressed = false;
      try {
        for await (const info of this.inner.list(prefix)) {
          if (seen.has(info.key)) continue;
          seen.add(info.key);
          progressed = true;
          yield info;
        }
        return;
      } catch (err) {
        // A listing that got further before failing earns a fresh set of retries.
        failures = progressed ? 1 : failures + 1;
        await this.backoff('list', prefix, failures, err);
      }
    }
  }

  delete(key: string): Promise<void> {
    return this.run('delete', key, () => this.inner.delete(key));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async run<T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        await this.backoff(operation, key, attempt, err);
      }
    }
  }

  /** Rethrows `err` if it is permanent or retries are used up, else waits before the next try. */
  private async backoff(operation: string, key: string, attempt: number, err: unknown): Promise<void> {
    if (attempt > this.retries || isPermanent(err)) throw err;
    const bound = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const delayMs = Math.floor(this.random() * bound);
    this.onRetry?.({ operation, key, attempt, delayMs, error: err });
    await this.sleep(delayMs);
  }
}

/** Wraps `storage` so transient failures are retried (see the module comment). */
export function withRetry(storage: Storage, options?: RetryOptions): Storage {
  return new RetryingStorage(storage, options);
}
