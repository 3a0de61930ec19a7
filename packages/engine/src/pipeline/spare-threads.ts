/**
 * Chunk worker threads started ahead of need. A thread takes 70–100 ms to boot and load its
 * modules; `Repository.open` can start them while scrypt checks the password, and the next
 * backup or restore takes them instead of starting its own. A thread gets its keys with its
 * first message (see worker-thread.ts), so it can start before they are known. Idle spares
 * never keep the process alive; `close` ends them.
 */
import { Worker } from 'node:worker_threads';
import { workerScript } from './endpoints.js';

export class SpareThreads {
  private idle: Worker[] = [];

  constructor(private readonly script: URL | undefined = workerScript()) {}

  /** Starts threads until `count` are idle (none when the engine runs without a build). */
  start(count: number): void {
    if (!this.script) return;
    while (this.idle.length < count) {
      const worker = new Worker(this.script);
      worker.unref();
      // A spare that fails before it is taken is simply forgotten; its taker would have seen
      // the failure as the pool's error.
      const forget = () => {
        this.idle = this.idle.filter((w) => w !== worker);
      };
      worker.on('error', forget).on('exit', forget);
      this.idle.push(worker);
    }
  }

  get size(): number {
    return this.idle.length;
  }

  /** An idle thread, now holding the process open like any working thread, or undefined. */
  take(): Worker | undefined {
    const worker = this.idle.shift();
    worker?.ref();
    return worker;
  }

  async close(): Promise<void> {
    const idle = this.idle;
    this.idle = [];
    await Promise.all(idle.map((w) => w.terminate()));
  }
}
