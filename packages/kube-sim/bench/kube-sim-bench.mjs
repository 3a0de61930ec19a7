#!/usr/bin/env node
// kube-sim benchmark (not a test): creates N ConfigMaps, Secrets and Deployments in one
// namespace through @kubernetes/client-node, then lists them all paginated; prints objects/s,
// and the CPU seconds the server and the client used per phase (the machine is shared: CPU
// seconds move less than wall time with the load).
// kube-sim runs as its own process (`kube-sim serve`, as tests and scripts use it), so client
// and server each get a core.
// Usage: npm run bench:kube-sim [-- --count 10000 --concurrency 32 --page 500 --no-keep-alive
//        --no-controllers --raw --settle]
//   --raw   a plain keep-alive https client (JSON.stringify/JSON.parse, no client-node) for
//           comparison: what the server can do when the client costs little
//   --settle wait for the server to go idle (controllers caught up) between creating and
//           listing; by default a kind is listed right after its creates, as before
// KUBE_SIM_BENCH_PROFILE=DIR writes a CPU profile of the server into DIR.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const COUNT = opt('count', 10_000);
const CONCURRENCY = opt('concurrency', 32);
const PAGE = opt('page', 500);
const NS = 'bench';
const RAW = args.includes('--raw');
const SETTLE = args.includes('--settle');

const KEEP_ALIVE = RAW || !args.includes('--no-keep-alive');
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const loadStart = load();
const dir = mkdtempSync(join(tmpdir(), 'kube-sim-bench-'));
const kubeconfig = join(dir, 'kubeconfig');
const bin = fileURLToPath(new URL('../bin/kube-sim.js', import.meta.url));
const server = spawn(process.execPath, [...(process.env.KUBE_SIM_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.KUBE_SIM_BENCH_PROFILE] : []), bin, 'serve', '--port', '0', '--data', join(dir, 'data'), '--kubeconfig-out', kubeconfig, ...(args.includes('--no-controllers') ? ['--no-controllers'] : [])], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (c) => {
    out += c;
    if (out.includes('kube-sim ready on')) resolve();
  });
  server.on('exit', (code) => reject(new Error(`kube-sim exited (${code}) before it was ready`)));
});

/** CPU seconds (user + system) kube-sim has used so far (Linux /proc; NaN elsewhere). */
function serverCpu() {
  try {
    const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}
const clientCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const ca = readFileSync(join(dir, 'data', 'pki', 'ca.crt'));
// client-node 1.4 makes a new https.Agent — a new TLS connection — for every request; a
// shared keep-alive agent is what a heavy client (the backup tool) should use
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca });
if (KEEP_ALIVE) kc.createAgent = () => agent;
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
await core.createNamespace({ body: { metadata: { name: NS } } });

/** The plain client: one request over the shared agent, the JSON body parsed. */
const server0 = new URL(kc.getCurrentCluster().server);
const token = kc.getCurrentUser().token;
function raw(method, path, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: server0.hostname,
        port: server0.port,
        method,
        path,
        agent,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          if (res.statusCode >= 300) reject(new Error(`${method} ${path}: ${res.statusCode} ${parsed.message}`));
          else resolve(parsed);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
const listPath = (base, cont) => `${base}?limit=${PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;

const bodies = {
  ConfigMap: (i) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { bench: 'yes' } }, data: { index: String(i), payload: 'x'.repeat(200) } }),
  Secret: (i) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${i}` }, type: 'Opaque', data: { token: Buffer.from(`secret-${i}`).toString('base64') } }),
  Deployment: (i) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `deploy-${i}`, labels: { app: `app-${i}` } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: `app-${i}` } },
      template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
    },
  }),
};
const paths = { ConfigMap: `/api/v1/namespaces/${NS}/configmaps`, Secret: `/api/v1/namespaces/${NS}/secrets`, Deployment: `/apis/apps/v1/namespaces/${NS}/deployments` };
const kinds = RAW
  ? Object.fromEntries(
      Object.keys(bodies).map((kind) => [
        kind,
        {
          create: (i) => raw('POST', paths[kind], bodies[kind](i)),
          list: (cont) => raw('GET', listPath(paths[kind], cont)).then((l) => ({ items: l.items, metadata: { _continue: l.metadata.continue } })),
        },
      ]),
    )
  : {
      ConfigMap: {
        create: (i) => core.createNamespacedConfigMap({ namespace: NS, body: bodies.ConfigMap(i) }),
        list: (cont) => core.listNamespacedConfigMap({ namespace: NS, limit: PAGE, _continue: cont }),
      },
      Secret: {
        create: (i) => core.createNamespacedSecret({ namespace: NS, body: bodies.Secret(i) }),
        list: (cont) => core.listNamespacedSecret({ namespace: NS, limit: PAGE, _continue: cont }),
      },
      Deployment: {
        create: (i) => apps.createNamespacedDeployment({ namespace: NS, body: bodies.Deployment(i) }),
        list: (cont) => apps.listNamespacedDeployment({ namespace: NS, limit: PAGE, _continue: cont }),
      },
    };

async function pool(n, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Runs fn; returns wall seconds and the server's and the client's CPU seconds meanwhile. */
async function measure(fn) {
  const [t, s, c] = [performance.now(), serverCpu(), clientCpu()];
  const r = await fn();
  return { r, sec: (performance.now() - t) / 1000, server: serverCpu() - s, client: clientCpu() - c };
}

/** Waits until the server's CPU stops moving (controllers catching up), up to 60 s. */
async function quiesce() {
  const t = performance.now();
  let last = serverCpu();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    const now = serverCpu();
    if (now - last < 0.05 || performance.now() - t > 60_000) return (performance.now() - t) / 1000;
    last = now;
  }
}

const rows = [];
const total = { create: 0, createSec: 0, list: 0, listSec: 0, createServer: 0, listServer: 0, settleServer: 0 };
const f1 = (x) => Math.round(x * 10) / 10;
try {
  for (const [kind, k] of Object.entries(kinds)) {
    const c = await measure(() => pool(COUNT, (i) => k.create(i)));
    const settle = SETTLE ? await measure(quiesce) : { server: 0 };
    const l = await measure(async () => {
      let listed = 0;
      let cont;
      do {
        const page = await k.list(cont);
        listed += page.items.length;
        cont = page.metadata?._continue;
      } while (cont);
      return listed;
    });
    const listed = l.r;
    rows.push({
      kind,
      'create/s': Math.round(COUNT / c.sec),
      'create server cpu s': f1(c.server),
      'create client cpu s': f1(c.client),
      ...(SETTLE ? { 'settle server cpu s': f1(settle.server) } : {}),
      'list/s': Math.round(listed / l.sec),
      'list server cpu s': f1(l.server),
      'list client cpu s': f1(l.client),
    });
    if (listed < COUNT) throw new Error(`listed ${listed} ${kind}s, created ${COUNT}`);
    total.create += COUNT;
    total.createSec += c.sec;
    total.createServer += c.server;
    total.settleServer += settle.server;
    total.list += listed;
    total.listSec += l.sec;
    total.listServer += l.server;
  }
  // what the controllers still had to do once the last list returned
  const after = await measure(quiesce);
  total.settleServer += after.server;
  console.table(rows);
  console.log(
    `create: ${Math.round(total.create / total.createSec)} objects/s (target ≥ 2000), list: ${Math.round(total.list / total.listSec)} objects/s (target ≥ 20000); ` +
      `server CPU: ${f1(total.createServer + total.listServer + total.settleServer)} s (${f1(after.server)} s of it after the last list), ${Math.round(total.create / (total.createServer + total.settleServer))} creates and ${Math.round(total.list / total.listServer)} listed objects per CPU second; ` +
      `${RAW ? 'plain https client' : 'client-node'}, ${COUNT} per kind, concurrency ${CONCURRENCY}, page ${PAGE}, ${KEEP_ALIVE ? 'shared keep-alive agent' : "client-node's default agent (new TLS connection per request)"}; load average ${loadStart} → ${load()}`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
}
