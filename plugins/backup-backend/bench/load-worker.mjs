// The benchmark's clients: `clients` loops, each sending the next request of `paths` as soon as
// its previous one is answered (closed loop); latencies per request, percentiles at the end.
// `p99Repeat` is the p99 of the requests whose path was already asked for in this run (a cache
// can only answer those), next to the p99 of all requests.
// node:http with a keep-alive agent (one connection per client): cheaper than fetch, so that the
// clients take less of the CPU they share with the server and PostgreSQL. Responses are drained,
// not decoded; `accept-encoding` is sent as a browser does, so the server compresses as it would.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { base, headers, name, paths, clients } = workerData;
const url = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const requestHeaders = { 'accept-encoding': 'gzip, deflate, br', ...headers };

function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${path}`,
        agent,
        headers: requestHeaders,
      },
      (res) => {
        res.on('error', reject);
        res.on('end', () => resolve(res.statusCode));
        res.resume();
      },
    );
    req.on('error', reject);
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const latencies = [];
const repeatLatencies = [];
const seen = new Set();
let next = 0;
let failures = 0;
const elu = performance.eventLoopUtilization();
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const repeat = seen.has(path);
      seen.add(path);
      const t0 = performance.now();
      const status = await get(path);
      const latency = performance.now() - t0;
      latencies.push(latency);
      if (repeat) repeatLatencies.push(latency);
      if (status !== 200) failures++;
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
const clientBusy = performance.eventLoopUtilization(elu).utilization;
agent.destroy();
latencies.sort((a, b) => a - b);
repeatLatencies.sort((a, b) => a - b);
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
  p99Repeat: round(percentile(repeatLatencies, 99)),
  clientBusy: Math.round(clientBusy * 100) / 100,
});
