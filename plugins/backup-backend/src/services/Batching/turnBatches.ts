/**
 * Items of one key added in the same turn of the event loop, run together: a batch is closed at
 * the next `setImmediate`, or sooner when it holds `maxItems` items or its items' summed `weight`
 * reaches `maxWeight` (an item that would take it past that starts the next batch; an item as
 * heavy as `maxWeight` is run alone). `run` settles each item's waiter; waiters it leaves
 * unsettled when it fails (throws or rejects) are rejected with its error.
 */

export interface Waiter<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

export interface TurnBatchesOptions<T, R> {
  /** Runs a batch, settling its waiters (in the order their items were added). */
  run: (batch: ReadonlyArray<Waiter<T, R>>) => Promise<void>;
  maxItems: number;
  /** An item's weight (1 by default) and the summed weight of a batch at most (none by default). */
  weight?: (item: T) => number;
  maxWeight?: number;
}

interface Batch<T, R> {
  waiters: Array<Waiter<T, R>>;
  weight: number;
}

export class TurnBatches<T, R> {
  private readonly open = new Map<string, Batch<T, R>>();

  constructor(private readonly options: TurnBatchesOptions<T, R>) {}

  /** The result of `item`, run with the other items of `key` added in this turn. */
  add(key: string, item: T): Promise<R> {
    const { maxItems, weight = () => 1, maxWeight = Infinity } = this.options;
    const w = weight(item);
    let b = this.open.get(key);
    // A new batch replaces (closes) the open one, which still runs at its setImmediate.
    if (!b || b.weight + w > maxWeight) b = this.created(key);
    b.weight += w;
    if (b.waiters.length + 1 >= maxItems || b.weight >= maxWeight) this.open.delete(key);
    const { waiters } = b;
    return new Promise((resolve, reject) => waiters.push({ item, resolve, reject }));
  }

  private created(key: string): Batch<T, R> {
    const batch: Batch<T, R> = { waiters: [], weight: 0 };
    this.open.set(key, batch);
    setImmediate(() => {
      if (this.open.get(key) === batch) this.open.delete(key);
      void this.run(batch.waiters);
    });
    return batch;
  }

  private async run(waiters: ReadonlyArray<Waiter<T, R>>): Promise<void> {
    try {
      await this.options.run(waiters);
    } catch (err) {
      // A promise settles once: the waiters `run` settled keep their result.
      waiters.forEach((w) => w.reject(err));
    }
  }
}

/** Settles `waiter` with `result`. */
export function settle<T, R>(waiter: Waiter<T, R>, result: Promise<R>): Promise<void> {
  return result.then(waiter.resolve, waiter.reject);
}
