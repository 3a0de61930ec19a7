/** Entry point of a chunk worker thread: relays messages to a WorkerCore. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ToWorker, WorkerInit } from './protocol.js';
import { WorkerCore } from './worker-core.js';

const port = parentPort!;
const core = new WorkerCore(workerData as WorkerInit, (out) =>
  port.postMessage(out.msg, out.transfer),
);
port.on('message', (batch: ToWorker[]) => {
  try {
    core.handle(batch);
  } catch (err) {
    port.postMessage({ t: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
