/**
 * Test helpers of the namespace-command tests: a kube-sim and a sandbox with an initialised
 * repository, the real kubectl against it, the built executable with its kubeconfig, and the
 * cluster questions the tests ask (workloads ready, namespace gone, object inventory).
 */
import path from 'node:path';
import { startTestSim, type TestSim } from '@kubectl-backup/kube-sim';
import { expect } from 'vitest';
import { sandbox, type RunResult, type Sandbox } from './cli.js';

export const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
export const FIXTURES = path.resolve(import.meta.dirname, '../../../test/fixtures/apps');
export const PASSWORD = 'secret';

/** Expects exit code 0 (showing both streams when not). */
export async function ok(r: Promise<RunResult> | RunResult): Promise<RunResult> {
  const res = await r;
  expect(res.code, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);
  return res;
}

export async function waitFor(
  what: string,
  fn: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface ClusterSandbox {
  sim: TestSim;
  sb: Sandbox;
  /** The repository directory (KUBECTL_BACKUP_REPOSITORY of every `kb` run). */
  repoDir: string;
  /** The real kubectl (admin context unless `--context` is given). */
  kubectl(args: string[], input?: string): Promise<RunResult>;
  /** `kubectl backup …` with the simulator's kubeconfig. */
  kb(args: string[], env?: Record<string, string | undefined>): Promise<RunResult>;
  dispose(): Promise<void>;
}

/** A kube-sim, a sandbox HOME and an initialised repository in it. */
export async function clusterSandbox(): Promise<ClusterSandbox> {
  const sim = await startTestSim();
  const sb = await sandbox();
  const repoDir = path.join(sb.dir, 'repo');
  Object.assign(sb.env, { KUBECTL_BACKUP_REPOSITORY: repoDir, KUBECTL_BACKUP_PASSWORD: PASSWORD });
  await ok(sb.run(['repo', 'init']));
  return {
    sim,
    sb,
    repoDir,
    kubectl: (args, input) =>
      sim.kubectl(['--kubeconfig', sim.kubeconfigPath, ...args], {
        binary: KUBECTL,
        ...(input === undefined ? {} : { input }),
      }),
    kb: (args, env = {}) => sb.run(args, { KUBECONFIG: sim.kubeconfigPath, ...env }),
    dispose: async () => {
      await sim.dispose();
      await sb.cleanup();
    },
  };
}

/** Every Deployment of the namespace has its replicas available (and there is one at least). */
export async function deploymentsReady(c: ClusterSandbox, ns: string): Promise<boolean> {
  const r = await c.kubectl(['get', 'deployments', '-n', ns, '-o', 'json']);
  const list = JSON.parse(r.stdout || '{"items":[]}') as {
    items: Array<{ spec: { replicas?: number }; status?: { availableReplicas?: number } }>;
  };
  return (
    list.items.length > 0 &&
    list.items.every((d) => (d.status?.availableReplicas ?? 0) >= (d.spec.replicas ?? 1))
  );
}

export async function namespaceGone(c: ClusterSandbox, ns: string): Promise<boolean> {
  return (await c.kubectl(['get', 'namespace', ns, '-o', 'name'])).code !== 0;
}

/** `Kind/name` of the objects of these types in a namespace, sorted (kube-root-ca.crt left out). */
export async function inventory(
  c: ClusterSandbox,
  ns: string,
  types = 'deployments,services,configmaps,serviceaccounts',
): Promise<string[]> {
  const r = await c.kubectl(['get', types, '-n', ns, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  const list = JSON.parse(r.stdout) as {
    items: Array<{ kind: string; metadata: { name: string } }>;
  };
  return list.items
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .filter((k) => k !== 'ConfigMap/kube-root-ca.crt')
    .sort();
}

/** A PVC and a one-replica busybox Deployment that mounts it (YAML for `kubectl apply -f -`). */
export function workloadWithPvc(options: {
  name: string;
  pvc: string;
  mountPath: string;
  /** Extra lines of the container spec, indented for it (e.g. envFrom). */
  containerExtra?: string;
}): string {
  const { name, pvc, mountPath } = options;
  return `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${pvc} }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      containers:
        - name: ${name}
          image: busybox:1.36
          command: [sleep, '3600']
${options.containerExtra ?? ''}          volumeMounts: [{ name: ${pvc}, mountPath: ${mountPath} }]
      volumes: [{ name: ${pvc}, persistentVolumeClaim: { claimName: ${pvc} } }]
`;
}

/** Namespace `shop`: the guestbook fixture app and a ConfigMap `settings`, workloads ready. */
export async function seedShop(c: ClusterSandbox): Promise<void> {
  await ok(c.kubectl(['create', 'namespace', 'shop']));
  await ok(c.kubectl(['apply', '-n', 'shop', '-f', path.join(FIXTURES, 'guestbook')]));
  await ok(
    c.kubectl(['create', 'configmap', 'settings', '-n', 'shop', '--from-literal=color=blue']),
  );
  await waitFor('guestbook ready', () => deploymentsReady(c, 'shop'));
}
