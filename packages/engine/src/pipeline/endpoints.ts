/** Where chunk work runs: worker threads (default) or inline on the main thread (tests, tiny jobs). */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { WorkerCore } from './worker-core.js';

export interface Endpoint {
  post(msg: ToWorker, transfer?: ArrayBuffer[]): void;
  close(): Promise<void>;
}

export type Receive = (msg: FromWorker) => void;

export function inlineEndpoint(init: WorkerInit, receive: Receive): Endpoint {
  let closed = false;
  // Replies are delivered asynchronously, like a thread's, so callers never depend on re-entrancy.
  const core = new WorkerCore(init, (out) => queueMicrotask(() => closed || receive(out.msg)));
  return {
    post(msg) {
      queueMicrotask(() => {
        if (closed) return;
        try {
          core.handle(msg);
        } catch (err) {
          receive({ t: 'error', message: err instanceof Error ? err.message : String(err) });
        }
      });
    },
    async close() {
      closed = true;
    },
  };
}

/**
 * The compiled worker script. Under a test runner the engine runs from its TypeScript sources,
 * where no `.js` sibling exists; then the built copy in dist/ is used, if there is one.
 */
export function workerScript(): URL | undefined {
  const here = new URL('./worker-thread.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const built = new URL('../../dist/pipeline/worker-thread.js', import.meta.url);
  return existsSync(fileURLToPath(built)) ? built : undefined;
}

export function threadEndpoint(script: URL, init: WorkerInit, receive: Receive): Endpoint {
  const worker = new Worker(script, { workerData: init });
  worker.on('message', receive);
  worker.on('error', (err) => receive({ t: 'error', message: err.message }));
  return {
    post(msg, transfer) {
      worker.postMessage(msg, transfer ?? []);
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** `count` worker-thread endpoints, or one inline endpoint when `count` is 0 or no build exists. */
export function startEndpoints(init: WorkerInit, count: number, receive: Receive): Endpoint[] {
  const script = count > 0 ? workerScript() : undefined;
  if (!script) return [inlineEndpoint(init, receive)];
  return Array.from({ length: count }, () => threadEndpoint(script, init, receive));
}

/** Default worker count: one per CPU, at most 4. */
export function defaultWorkers(): number {
  return Math.min(4, Math.max(1, cpus().length));
}
