/** Where chunk work runs: worker threads (default) or inline on the main thread (tests, tiny jobs). */
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { WorkerCore } from './worker-core.js';
import { workerScript } from './worker-script.js';

export { defaultWorkers, workerScript } from './worker-script.js';

export interface Endpoint {
  /** Queues a message; the queue goes out as one batch on the next turn of the event loop. */
  post(msg: ToWorker, transfer?: ArrayBuffer[]): void;
  close(): Promise<void>;
}

/** Handles a message from the endpoint with the given index (in `startEndpoints` order). */
export type Receive = (msg: FromWorker, endpoint: number) => void;

/** Collects posted messages and hands them to `send` as one batch per turn of the event loop. */
function batching(send: (batch: ToWorker[], transfer: ArrayBuffer[]) => void) {
  let batch: ToWorker[] = [];
  let transfers: ArrayBuffer[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const [b, t] = [batch, transfers];
    batch = [];
    transfers = [];
    if (b.length) send(b, t);
  };
  return (msg: ToWorker, transfer?: ArrayBuffer[]) => {
    batch.push(msg);
    if (transfer?.length) transfers.push(...transfer);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

export function inlineEndpoint(init: WorkerInit, receive: (msg: FromWorker) => void): Endpoint {
  let closed = false;
  // Replies are delivered asynchronously, like a thread's, so callers never depend on re-entrancy.
  const core = new WorkerCore(init, (out) => queueMicrotask(() => closed || receive(out.msg)));
  return {
    post: batching((batch) => {
      if (closed) return;
      try {
        core.handle(batch);
      } catch (err) {
        // Like a thread that ends on a message that throws (worker-thread.ts).
        closed = true;
        core.close();
        const message = err instanceof Error ? err.message : String(err);
        receive({ t: 'error', message, exited: true });
      }
    }),
    async close() {
      closed = true;
      core.close();
    },
  };
}

/** A worker thread (a started spare, or a new one) given `init` as its first message. */
export function threadEndpoint(
  script: URL,
  init: WorkerInit,
  receive: (msg: FromWorker) => void,
  spare?: Worker,
): Endpoint {
  const worker = spare ?? new Worker(script);
  worker.postMessage(init);
  // After an error, after close, a thread's exit is expected; any other exit is a failure that
  // must reach the owner, or it would wait for an answer forever.
  let ended = false;
  const fail = (message: string) => {
    if (ended) return;
    ended = true;
    receive({ t: 'error', message, exited: true });
  };
  worker.on('message', receive);
  worker.on('error', (err) => fail(err.message));
  worker.on('exit', (code) => fail(`a chunk worker thread stopped (exit code ${code})`));
  return {
    post: batching((batch, transfer) => {
      try {
        worker.postMessage(batch, transfer);
      } catch (err) {
        // E.g. a buffer that cannot be transferred: the batch is lost, so the thread is given up
        // and the owner fails instead of waiting forever for its answers.
        fail((err as Error).message);
        void worker.terminate();
      }
    }),
    async close() {
      ended = true;
      await worker.terminate();
    },
  };
}

/**
 * `count` worker-thread endpoints, or one inline endpoint when `count` is 0 or no build exists.
 * Threads come from `spares` first.
 */
export function startEndpoints(
  init: WorkerInit,
  count: number,
  receive: Receive,
  spares?: { take(): Worker | undefined },
): Endpoint[] {
  const script = count > 0 ? workerScript() : undefined;
  if (!script) return [inlineEndpoint(init, (msg) => receive(msg, 0))];
  return Array.from({ length: count }, (_, k) =>
    threadEndpoint(script, init, (msg) => receive(msg, k), spares?.take()),
  );
}
