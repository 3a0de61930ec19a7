/** A client-side token bucket (like client-go's QPS/burst) and a small concurrency limiter. */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();

  /** `qps` ≤ 0 means unlimited. */
  constructor(
    private readonly qps: number,
    private readonly burst: number = Math.max(1, Math.ceil(qps * 2)),
  ) {
    this.tokens = this.burst;
  }

  /** Resolves when one request may go out. */
  take(): Promise<void> {
    if (!(this.qps > 0)) return Promise.resolve();
    const next = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.qps) * 1000)));
      }
    });
    this.queue = next;
    return next;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return results;
}
