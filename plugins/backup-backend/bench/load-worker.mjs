/* global fetch */
// The benchmark's clients: `clients` loops, each sending the next request of `paths` as soon as
// its previous one is answered (closed loop); latencies per request, percentiles at the end.
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { base, headers, name, paths, clients } = workerData;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const latencies = [];
let next = 0;
let failures = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const t0 = performance.now();
      const res = await fetch(`${base}${path}`, { headers });
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200) failures++;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const round = (v) => Math.round(v * 10) / 10;
parentPort.postMessage({
  route: name,
  requests: latencies.length,
  failures,
  perSecond: Math.round(latencies.length / seconds),
  p50: round(percentile(latencies, 50)),
  p90: round(percentile(latencies, 90)),
  p99: round(percentile(latencies, 99)),
  max: round(latencies[latencies.length - 1]),
});
