/**
 * The demo's applications: real manifests from test/fixtures/apps (guestbook: Deployments and
 * Services; mysql-replicated: a StatefulSet with a PVC per replica), seeded into one namespace,
 * waited for, and given some data in their volumes through `pods/exec`.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  execInPod,
  type Connection,
  type KubeClient,
  type ResourceLocation,
} from '@kubectl-backup/k8s';
import { parseAllDocuments } from 'yaml';
import { formatBytes, formatDuration } from '../output/format.js';
import type { DemoPaths } from './paths.js';
import { say } from './say.js';

export const NAMESPACE = 'shop';
export const APPS = ['guestbook', 'mysql-replicated'];

const DEPLOYMENTS: ResourceLocation = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  namespaced: true,
};
const STATEFULSETS: ResourceLocation = { ...DEPLOYMENTS, resource: 'statefulsets' };
const PODS: ResourceLocation = { group: '', version: 'v1', resource: 'pods', namespaced: true };

/**
 * Copies the apps' manifests into the seed directory with `metadata.namespace` set (what
 * `kubectl apply -n NAMESPACE -f DIR` does); returns how many objects.
 */
export async function writeSeed(paths: DemoPaths): Promise<number> {
  let objects = 0;
  for (const app of APPS) {
    const from = path.join(paths.fixtures, app);
    const to = path.join(paths.seed, app);
    await mkdir(to, { recursive: true });
    for (const file of (await readdir(from)).filter((f) => /\.ya?ml$/.test(f))) {
      const docs = parseAllDocuments(await readFile(path.join(from, file), 'utf8')).filter(
        (d) => d.contents !== null,
      );
      for (const d of docs) d.setIn(['metadata', 'namespace'], NAMESPACE);
      objects += docs.length;
      await writeFile(path.join(to, file), docs.map(String).join('---\n'));
    }
  }
  return objects;
}

interface Workload {
  kind?: string;
  metadata: { name?: string };
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; readyReplicas?: number };
}

function notReady(w: Workload): string | undefined {
  const want = w.spec?.replicas ?? 1;
  const have =
    (w.kind === 'StatefulSet' ? w.status?.readyReplicas : w.status?.availableReplicas) ?? 0;
  return have >= want ? undefined : `${w.kind}/${w.metadata.name} ${have}/${want}`;
}

/** Waits until every Deployment and StatefulSet of the namespace is ready. */
export async function waitAppsReady(
  client: KubeClient,
  signal: AbortSignal,
  timeoutMs = 300_000,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    const workloads = [
      ...(await client.listAll(DEPLOYMENTS, NAMESPACE, { signal })),
      ...(await client.listAll(STATEFULSETS, NAMESPACE, { signal })),
    ] as Workload[];
    const waiting = workloads.map(notReady).filter((w): w is string => !!w);
    if (workloads.length && !waiting.length) {
      const pods = await client.listAll(PODS, NAMESPACE, { signal });
      const kinds = workloads.map((w) => w.kind);
      say(
        `ready after ${formatDuration(Date.now() - started)}: ${kinds.filter((k) => k === 'Deployment').length} Deployments, ${kinds.filter((k) => k === 'StatefulSet').length} StatefulSet, ${pods.length} pods`,
      );
      return;
    }
    if (Date.now() - started > timeoutMs)
      throw new Error(
        `not ready after ${formatDuration(timeoutMs)}: ${waiting.join(', ') || 'no workloads'}`,
      );
    signal.throwIfAborted();
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Reproducible bytes: order lines (compressible) or SHA-256 in counter mode (not). */
function sampleData(kind: 'orders' | 'random', size: number): Buffer {
  if (kind === 'orders') {
    const lines: string[] = ['id,time,customer,amount'];
    for (let i = 0, n = 0; n < size; i++) {
      const line = `order-${String(i).padStart(6, '0')},2026-11-21T12:${String(i % 60).padStart(2, '0')}:00Z,customer-${i % 997},${(i % 9000) / 100 + 1}`;
      lines.push(line);
      n += line.length + 1;
    }
    return Buffer.from(`${lines.join('\n')}\n`);
  }
  const blocks = Array.from({ length: Math.ceil(size / 32) }, (_, i) =>
    createHash('sha256').update(`demo-${i}`).digest(),
  );
  return Buffer.concat(blocks).subarray(0, size);
}

/** Files written into the MySQL volumes (the container mounts its PVC at /var/lib/mysql). */
function volumeFiles(): Array<{ pod: string; file: string; data: Buffer }> {
  return [
    { pod: 'mysql-0', file: 'orders.csv', data: sampleData('orders', 1 << 20) },
    { pod: 'mysql-0', file: 'attachments.bin', data: sampleData('random', 1 << 20) },
    ...[1, 2].map((n) => ({
      pod: `mysql-${n}`,
      file: 'replica.txt',
      data: Buffer.from(`replica ${n} of mysql-0\n`),
    })),
  ];
}

/** Writes the sample files into the PVCs through `kubectl exec`-style sessions. */
export async function writeVolumeData(kc: Connection['kc'], signal: AbortSignal): Promise<void> {
  for (const { pod, file, data } of volumeFiles()) {
    const script = `mkdir -p /var/lib/mysql/demo && cat > /var/lib/mysql/demo/${file}`;
    say(`$ kubectl exec -n ${NAMESPACE} ${pod} -c mysql -i -- sh -c '${script}' < ${file}`);
    const r = await execInPod(
      kc,
      { namespace: NAMESPACE, pod, container: 'mysql' },
      ['sh', '-c', script],
      { stdin: data, signal, timeoutMs: 120_000 },
    );
    if (r.exitCode !== 0)
      throw new Error(
        `writing ${file} in ${pod} exited with code ${r.exitCode}: ${r.stderr.toString().trim()}`,
      );
    say(`  wrote ${formatBytes(data.length)}`);
  }
}
