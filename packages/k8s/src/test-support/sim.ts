/** Test helpers: a kube-sim per test file, a memory repository, the real kubectl, waiting. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { MemoryStorage, Repository } from '@kubectl-backup/engine';
import { KubeSim, type RunningKubeSim } from '@kubectl-backup/kube-sim';
import { KubeClient } from '../client.js';
import type { KubeObject } from '../types.js';

export const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
export const FIXTURES = new URL('../../../../test/fixtures/apps/', import.meta.url).pathname;

export interface Harness {
  sim: RunningKubeSim;
  dir: string;
  kubeConfig(context?: string): KubeConfig;
  client(context?: string): KubeClient;
  kubectl(args: string[], input?: string, context?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  dispose(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-test-'));
  const sim = await KubeSim.start({ dataDir: dir, port: 0 });
  const clients: KubeClient[] = [];
  const kubeConfig = (context = 'admin') => {
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    kc.setCurrentContext(context);
    return kc;
  };
  return {
    sim,
    dir,
    kubeConfig,
    client: (context = 'admin') => {
      const c = new KubeClient(kubeConfig(context), { qps: 0 });
      clients.push(c);
      return c;
    },
    kubectl: (args, input, context = 'admin') =>
      new Promise((resolve) => {
        const child = execFile(
          KUBECTL,
          ['--kubeconfig', sim.kubeconfigPath, '--context', context, ...args],
          { env: { ...process.env, HOME: join(dir, 'home'), KUBECACHEDIR: join(dir, 'home', 'cache') }, maxBuffer: 64 << 20, timeout: 60_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
        );
        if (input !== undefined) child.stdin?.end(input);
      }),
    dispose: async () => {
      for (const c of clients) c.close();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function memoryRepo(): Promise<Repository> {
  return Repository.init(new MemoryStorage(), 'test-password', { scrypt: { N: 1024, r: 8, p: 1 } });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Applies a fixture app into a namespace with the real kubectl and waits for its workloads. */
export async function applyFixture(h: Harness, app: string, namespace: string): Promise<void> {
  const ns = await h.kubectl(['create', 'namespace', namespace]);
  if (ns.code !== 0 && !ns.stderr.includes('AlreadyExists')) throw new Error(`kubectl create namespace: ${ns.stderr}`);
  const r = await h.kubectl(['apply', '-n', namespace, '-f', join(FIXTURES, app)]);
  if (r.code !== 0) throw new Error(`kubectl apply ${app}: ${r.stderr}`);
  await waitWorkloadsReady(h.client(), namespace);
}

export async function waitWorkloadsReady(client: KubeClient, namespace: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `workloads in ${namespace} to be ready`,
    async () => {
      const deps = await client.listAll({ group: 'apps', version: 'v1', resource: 'deployments', namespaced: true }, namespace);
      const sts = await client.listAll({ group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true }, namespace);
      const ready = (o: KubeObject, field: string) => {
        const want = (o.spec as { replicas?: number }).replicas ?? 1;
        return ((o.status as Record<string, number> | undefined)?.[field] ?? 0) >= want;
      };
      return deps.every((d) => ready(d, 'availableReplicas')) && sts.every((s) => ready(s, 'readyReplicas'));
    },
    timeoutMs,
  );
}

export async function deleteNamespaceAndWait(client: KubeClient, namespace: string): Promise<void> {
  const t = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };
  await client.delete(t, undefined, namespace);
  await waitFor(`namespace ${namespace} to be gone`, async () => !(await client.getOptional(t, undefined, namespace)));
}

/**
 * Differences between a backup's objects and the live ones in `targetNs` after sanitising
 * (every backed-up field must have the same live value); cluster-scoped dependencies are left
 * out (shared objects). Empty when the restore is faithful.
 */
export async function restoredMismatches(repo: Repository, client: KubeClient, snapshotId: string, targetNs: string, sourceNs: string): Promise<string[]> {
  const { readBackupObjects } = await import('../records.js');
  const { sanitizeObject, mapNamespace } = await import('../restore/sanitize.js');
  const { subsetDiff } = await import('../restore/diff-fields.js');
  const { isPristineDefaultServiceAccount } = await import('../discovery.js');
  const out: string[] = [];
  for (const s of await readBackupObjects(repo, snapshotId)) {
    if (s.ref.namespace === undefined) continue;
    if (isPristineDefaultServiceAccount(s.object)) continue;
    const loc = { group: s.ref.group, version: s.ref.version, resource: s.ref.resource, namespaced: true };
    const live = await client.getOptional(loc, targetNs, s.ref.name);
    if (!live) {
      out.push(`${s.path}: missing`);
      continue;
    }
    const desired = mapNamespace(sanitizeObject(s.object), sourceNs, targetNs);
    for (const d of subsetDiff(desired, sanitizeObject(live))) out.push(`${s.path}: ${d.path} live ${JSON.stringify(d.from)} backup ${JSON.stringify(d.to)}`);
  }
  return out;
}
