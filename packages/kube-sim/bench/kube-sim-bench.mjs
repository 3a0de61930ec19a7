#!/usr/bin/env node
// kube-sim benchmark (not a test): creates N ConfigMaps, Secrets and Deployments in one
// namespace through @kubernetes/client-node, then lists them all paginated; prints objects/s.
// kube-sim runs as its own process (`kube-sim serve`, as tests and scripts use it), so client
// and server each get a core.
// Usage: npm run bench:kube-sim [-- --count 10000 --concurrency 32 --page 500 --no-keep-alive --no-controllers]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
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

const KEEP_ALIVE = !args.includes('--no-keep-alive');
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
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
if (KEEP_ALIVE) {
  // client-node 1.4 makes a new https.Agent — a new TLS connection — for every request; a
  // shared keep-alive agent is what a heavy client (the backup tool) should use
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: readFileSync(join(dir, 'data', 'pki', 'ca.crt')) });
  kc.createAgent = () => agent;
}
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
await core.createNamespace({ body: { metadata: { name: NS } } });

const kinds = {
  ConfigMap: {
    create: (i) => core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `cm-${i}`, labels: { bench: 'yes' } }, data: { index: String(i), payload: 'x'.repeat(200) } } }),
    list: (cont) => core.listNamespacedConfigMap({ namespace: NS, limit: PAGE, _continue: cont }),
  },
  Secret: {
    create: (i) => core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: `secret-${i}` }, type: 'Opaque', data: { token: Buffer.from(`secret-${i}`).toString('base64') } } }),
    list: (cont) => core.listNamespacedSecret({ namespace: NS, limit: PAGE, _continue: cont }),
  },
  Deployment: {
    create: (i) =>
      apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name: `deploy-${i}`, labels: { app: `app-${i}` } },
          spec: {
            replicas: 0,
            selector: { matchLabels: { app: `app-${i}` } },
            template: { metadata: { labels: { app: `app-${i}` } }, spec: { containers: [{ name: 'main', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] } },
          },
        },
      }),
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

const rows = [];
let totalCreate = 0;
let totalCreateSec = 0;
let totalList = 0;
let totalListSec = 0;
try {
  for (const [kind, k] of Object.entries(kinds)) {
    let t = performance.now();
    await pool(COUNT, (i) => k.create(i));
    const createSec = (performance.now() - t) / 1000;
    t = performance.now();
    let listed = 0;
    let cont;
    do {
      const page = await k.list(cont);
      listed += page.items.length;
      cont = page.metadata?._continue;
    } while (cont);
    const listSec = (performance.now() - t) / 1000;
    rows.push({ kind, created: COUNT, 'create/s': Math.round(COUNT / createSec), listed, 'list/s': Math.round(listed / listSec) });
    totalCreate += COUNT;
    totalCreateSec += createSec;
    totalList += listed;
    totalListSec += listSec;
  }
  console.table(rows);
  console.log(
    `create: ${Math.round(totalCreate / totalCreateSec)} objects/s (target ≥ 2000), list: ${Math.round(totalList / totalListSec)} objects/s (target ≥ 20000); ` +
      `client-node, concurrency ${CONCURRENCY}, page ${PAGE}, ${KEEP_ALIVE ? 'shared keep-alive agent' : "client-node's default agent (new TLS connection per request)"}`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
