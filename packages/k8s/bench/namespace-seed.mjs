// The cluster side of the namespace bench: kube-sim as its own process (`kube-sim serve`, so
// its CPU is not counted in ours), and a namespace seeded with a mix of ConfigMaps, Secrets,
// Deployments and Services through a KubeClient without a rate limit (one shared keep-alive
// agent, bounded concurrency).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { KubeClient } from '../dist/index.js';

const KUBE_SIM = fileURLToPath(new URL('../../kube-sim/bin/kube-sim.js', import.meta.url));
const CORE = (resource) => ({ group: '', version: 'v1', resource, namespaced: true });
export const TYPES = {
  ConfigMap: CORE('configmaps'),
  Secret: CORE('secrets'),
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  Service: CORE('services'),
};
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };

/** Starts `kube-sim serve` on a free port; resolves once it is ready. */
export async function startKubeSim(dir, { cpuProfDir } = {}) {
  const kubeconfig = join(dir, 'kubeconfig');
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  const args = [
    ...prof,
    KUBE_SIM,
    'serve',
    '--port',
    '0',
    '--data',
    join(dir, 'data'),
    '--kubeconfig-out',
    kubeconfig,
  ];
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (c) => {
      out += c;
      if (out.includes('kube-sim ready on')) resolve();
    });
    server.on('exit', (code) => reject(new Error(`kube-sim exited (${code}) before it was ready`)));
  });
  return {
    kubeconfig,
    pid: server.pid,
    /** CPU seconds (user + system) the server has used so far; null where /proc is missing. */
    cpuSeconds() {
      try {
        // fields after the command name: state is field 3, utime 14 and stime 15 (clock ticks, 100/s)
        const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return null;
      }
    },
    async stop() {
      if (server.exitCode !== null) return;
      server.kill('SIGTERM');
      await new Promise((r) => server.on('exit', r));
    },
  };
}

/** How N objects split: 40 % ConfigMaps, 30 % Secrets, 15 % Deployments, the rest Services. */
export function mixFor(count) {
  const ConfigMap = Math.round(count * 0.4);
  const Secret = Math.round(count * 0.3);
  const Deployment = Math.round(count * 0.15);
  return { ConfigMap, Secret, Deployment, Service: count - ConfigMap - Secret - Deployment };
}

/** The i-th object of a kind: small, realistic, distinct (labels, a payload, a pod template). */
function objectOf(kind, i, replicas) {
  const app = `app-${i % 1000}`;
  const labels = { app, tier: ['web', 'api', 'worker'][i % 3], 'bench/index': String(i) };
  switch (kind) {
    case 'ConfigMap':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name: `cm-${i}`, labels },
        data: {
          index: String(i),
          'settings.yaml': `name: cm-${i}\nlevel: ${i % 7}\npayload: ${'x'.repeat(200)}\n`,
        },
      };
    case 'Secret':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name: `secret-${i}`, labels },
        type: 'Opaque',
        data: {
          username: Buffer.from(`user-${i}`).toString('base64'),
          password: Buffer.from(`pw-${i}-${'s'.repeat(24)}`).toString('base64'),
        },
      };
    case 'Deployment': {
      const sel = { app: `deploy-${i}` };
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata: { name: `deploy-${i}`, labels },
        spec: {
          replicas,
          selector: { matchLabels: sel },
          template: {
            metadata: { labels: { ...sel, tier: labels.tier } },
            spec: {
              containers: [
                {
                  name: 'main',
                  image: 'nginx:1.27',
                  ports: [{ containerPort: 80, name: 'http' }],
                  env: [{ name: 'INDEX', value: String(i) }],
                  resources: { requests: { cpu: '10m', memory: '16Mi' } },
                },
              ],
            },
          },
        },
      };
    }
    case 'Service':
      return {
        apiVersion: 'v1',
        kind,
        metadata: { name: `svc-${i}`, labels },
        spec: {
          selector: { app: `deploy-${i}` },
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function pool(n, concurrency, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** A client for the bench's own requests: no client-side rate limit. */
export function seedClient(kc) {
  return new KubeClient(kc, { qps: 0 });
}

/**
 * Creates the namespace and the mix (controllers paused meanwhile when `pauseControllers`),
 * then waits until every Deployment is available and nothing changes any more.
 */
export async function seedNamespace(
  client,
  namespace,
  mix,
  { replicas, concurrency, pauseControllers, log },
) {
  await client.create(NAMESPACES, undefined, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: namespace },
  });
  if (pauseControllers) await client.request('POST', '/kube-sim/controllers/pause');
  try {
    for (const [kind, n] of Object.entries(mix)) {
      const t0 = performance.now();
      await pool(n, concurrency, (i) =>
        client.create(TYPES[kind], namespace, objectOf(kind, i, replicas)),
      );
      log(`  ${n} ${kind}s created (${Math.round(n / ((performance.now() - t0) / 1000))}/s)`);
    }
  } finally {
    if (pauseControllers) await client.request('POST', '/kube-sim/controllers/resume');
  }
  const t0 = performance.now();
  await waitSettled(client, namespace, mix.Deployment);
  log(`  controllers settled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** Until every Deployment of the namespace is available and the store's resourceVersion holds for 3 s. */
export async function waitSettled(client, namespace, deployments, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  for (;;) {
    const items = await client.listAll(TYPES.Deployment, namespace);
    const ready = items.filter(
      (d) =>
        d.status?.observedGeneration === d.metadata.generation &&
        (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1),
    ).length;
    if (items.length >= deployments && ready === items.length) break;
    if (Date.now() > deadline)
      throw new Error(`${ready}/${items.length} Deployments available after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
  const rv = async () =>
    (
      await client.request('GET', `/api/v1/namespaces/${namespace}/configmaps`, {
        query: { limit: 1 },
      })
    ).metadata.resourceVersion;
  let last = await rv();
  for (;;) {
    await sleep(3000);
    const now = await rv();
    if (now === last) return;
    if (Date.now() > deadline)
      throw new Error(`the cluster is still changing after ${timeoutMs / 1000} s`);
    last = now;
  }
}

/** Objects of each seeded kind in a namespace (the restore's sanity check). */
export async function countKinds(client, namespace) {
  const out = {};
  for (const [kind, t] of Object.entries(TYPES)) {
    const items = await client.listAll(t, namespace);
    out[kind] = items.filter((o) => o.metadata.labels?.['bench/index'] !== undefined).length;
  }
  return out;
}
