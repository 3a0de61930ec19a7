/** Small helpers shared by the volume movers: API errors, names, waiting. */
import { randomBytes } from 'node:crypto';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubectl-backup';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
/** Annotation on every object we create for a volume: the PVC it serves. */
export const PVC_ANNOTATION = 'backup.kubectl.io/pvc';

export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
export const SNAPSHOT_VERSION = 'v1';

/** HTTP status of a client-node ApiException (or undefined). */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return apiStatus(err) === 404;
}

/** A one-line message for API and other errors (the Status message when there is one). */
export function errorMessage(err: unknown): string {
  if (err === null || err === undefined) return 'unknown error';
  const e = err as { code?: unknown; body?: unknown; message?: unknown };
  if (typeof e.code === 'number' && e.body !== undefined) {
    let body: unknown = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the text
      }
    }
    const msg = (body as { message?: unknown } | null)?.message;
    if (typeof msg === 'string' && msg) return `${msg} (HTTP ${e.code})`;
    return `HTTP ${e.code}${typeof body === 'string' && body ? `: ${body.slice(0, 200)}` : ''}`;
  }
  if (typeof e.message === 'string') return e.message;
  return String(err);
}

export function isAbortError(err: unknown): boolean {
  return (err as { name?: unknown } | null)?.name === 'AbortError';
}

export function abortError(signal?: AbortSignal): Error {
  const r: unknown = signal?.reason;
  if (r instanceof Error) return r;
  const err = new Error(typeof r === 'string' ? r : 'the operation was aborted');
  err.name = 'AbortError';
  return err;
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `probe` until it returns a value (not undefined), with a growing interval (100 ms → 1 s).
 * On timeout, throws the error `onTimeout` builds.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; signal?: AbortSignal; onTimeout: () => Promise<Error> | Error },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let delay = 100;
  for (;;) {
    throwIfAborted(options.signal);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw await options.onTimeout();
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), options.signal);
    delay = Math.min(1000, Math.round(delay * 1.5));
  }
}

const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A random suffix as Kubernetes' generateName makes them (5 characters). */
export function randomSuffix(length = 5): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/**
 * `<prefix><pvc>-<random>`, at most 63 characters (a valid DNS label when the PVC name is one;
 * dots of a DNS-subdomain PVC name become dashes).
 */
export function generatedName(prefix: string, pvc: string): string {
  const suffix = randomSuffix();
  const room = 63 - prefix.length - suffix.length - 1;
  const base = pvc
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, Math.max(1, room))
    .replace(/-+$/, '');
  return `${prefix}${base || 'x'}-${suffix}`;
}

/** A counting semaphore whose waiters can be aborted. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  constructor(private readonly limit: number) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    throwIfAborted(signal);
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.resolve();
      else this.active--;
    };
  }
}

/** Parses a Kubernetes quantity ("1Gi", "500M", "1.5G", "1024") into bytes; NaN when invalid. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return NaN;
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const units: Record<string, number> = {
    '': 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    Pi: 1024 ** 5,
    Ei: 1024 ** 6,
  };
  const unit = units[m[2] ?? ''];
  return unit === undefined ? NaN : n * unit;
}

/** A duration like "30s", "2m", "1h30m", "1500ms" or a number of seconds, in milliseconds. */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of t.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  return consumed === t.length && consumed > 0 ? Math.round(total) : undefined;
}
