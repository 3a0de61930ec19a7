/**
 * Chunk worker threads started ahead of need. A thread takes 70–100 ms to boot and load its
 * modules; `Repository.open` can start them while scrypt checks the password, and the next
 * backup or restore takes them instead of starting its own. A thread gets its keys with its
 * first message (see worker-thread.ts), so it can start before they are known. Idle spares
 * never keep the process alive; `close` ends them.
 *
 * A program can start them earlier still, before it loads the engine (prestart.ts): they then
 * boot on the CPU the main thread leaves idle while it loads its modules, and the first
 * `SpareThreads.start` takes them over.
 */
import { Worker } from 'node:worker_threads';
import { defaultWorkers, workerScript } from './worker-script.js';

/** Threads `prestartWorkers` started, for the first SpareThreads to take over. */
const early = new Set<Worker>();

/**
 * Starts `count` worker threads now, before a repository is opened (see prestart.ts). Idle,
 * they never keep the process alive.
 */
export function prestartWorkers(count = defaultWorkers()): void {
  const script = workerScript();
  if (!script) return;
  for (let k = early.size; k < count; k++) {
    const worker = idle(new Worker(script), () => early.delete(worker));
    early.add(worker);
  }
}

/**
 * Lets an idle thread not hold the process open; `forget` runs if it fails or ends before it is
 * taken (its taker would have seen the failure as the pool's error).
 */
function idle(worker: Worker, forget: () => void): Worker {
  worker.unref();
  worker.on('error', forget).on('exit', forget);
  return worker;
}

function takeEarly(): Worker | undefined {
  for (const worker of early) {
    early.delete(worker);
    return worker;
  }
  return undefined;
}

export class SpareThreads {
  private idle: Worker[] = [];

  constructor(private readonly script: URL | undefined = workerScript()) {}

  /** Starts threads until `count` are idle (none when the engine runs without a build). */
  start(count: number): void {
    if (!this.script) return;
    while (this.idle.length < count) this.adopt(takeEarly() ?? new Worker(this.script));
  }

  private adopt(worker: Worker): void {
    this.idle.push(idle(worker, () => (this.idle = this.idle.filter((w) => w !== worker))));
  }

  get size(): number {
    return this.idle.length;
  }

  /**
   * An idle thread (its own, or one `prestartWorkers` started), now holding the process open like
   * any working thread, or undefined.
   */
  take(): Worker | undefined {
    const worker = this.idle.shift() ?? takeEarly();
    worker?.ref();
    return worker;
  }

  async close(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((w) => w.terminate()));
  }
}
