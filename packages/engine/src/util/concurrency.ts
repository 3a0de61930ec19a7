/** Small concurrency helpers: bounded map, a counting semaphore. */

export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class Semaphore {
  private waiters: Array<() => void> = [];
  private used = 0;

  constructor(private readonly capacity: number) {}

  async acquire(): Promise<() => void> {
    if (this.used >= this.capacity) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    } else {
      this.used++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.used--;
    };
  }
}
