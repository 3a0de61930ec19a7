/**
 * Entry point of a chunk worker thread. Its first message is the WorkerInit (the keys), so the
 * thread can be started before they are known (spare-threads.ts); every later message is a
 * batch for its WorkerCore. A message that throws ends the thread.
 */
import { parentPort } from 'node:worker_threads';
import type { ToWorker, WorkerInit } from './protocol.js';
import { WorkerCore } from './worker-core.js';

const port = parentPort!;
let core: WorkerCore | undefined;
port.on('message', (msg: WorkerInit | ToWorker[]) => {
  try {
    if (!Array.isArray(msg)) {
      core = new WorkerCore(msg, (out) => port.postMessage(out.msg, out.transfer));
      return;
    }
    if (!core) throw new Error('chunk worker got work before its keys');
    core.handle(msg);
  } catch (err) {
    // A worker that could not start, or whose state is now unknown, stops: its owner learns of
    // the exit and never waits for an answer it cannot give.
    port.postMessage({ t: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  }
});
