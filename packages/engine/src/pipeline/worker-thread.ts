/** Entry point of a chunk worker thread: relays messages to a WorkerCore. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ToWorker, WorkerInit } from './protocol.js';
import { WorkerCore } from './worker-core.js';

const core = new WorkerCore(workerData as WorkerInit);
parentPort!.on('message', (msg: ToWorker) => {
  try {
    for (const out of core.handle(msg)) parentPort!.postMessage(out.msg, out.transfer);
  } catch (err) {
    parentPort!.postMessage({ t: 'error', message: err instanceof Error ? err.message : String(err) });
  }
});
