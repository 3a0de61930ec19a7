/**
 * Test helpers of the volume, hook and exec tests: a kube-sim per test file, PVCs and pods made
 * through client-node, files written through exec (as a user would with kubectl exec).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { KubeSim, type RunningKubeSim } from '@kubectl-backup/kube-sim';

import { execInPod, type ExecResult } from '../exec.js';

export interface VolumeSim {
  sim: RunningKubeSim;
  dir: string;
  kc: KubeConfig;
  core: CoreV1Api;
  dispose(): Promise<void>;
}

export async function startVolumeSim(): Promise<VolumeSim> {
  const dir = mkdtempSync(join(tmpdir(), 'k8s-vol-test-'));
  const sim = await KubeSim.start({ dataDir: dir, port: 0 });
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  kc.setCurrentContext('admin');
  return {
    sim,
    dir,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    dispose: async () => {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

export async function createPvc(core: CoreV1Api, namespace: string, name: string, options: { storageClassName?: string; size?: string; wait?: boolean } = {}): Promise<void> {
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: options.size ?? '1Gi' } },
        ...(options.storageClassName !== undefined ? { storageClassName: options.storageClassName } : {}),
      },
    },
  });
  if (options.wait ?? true) {
    await waitFor(async () => (await core.readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound', 20_000, `PVC ${name} Bound`);
  }
}

/** A pod mounting the claims at /data (first) or /data-<claim>; waits until it runs. */
export async function startPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  options: { claims?: string[]; annotations?: Record<string, string>; containers?: string[]; wait?: boolean } = {},
): Promise<V1Pod> {
  const claims = options.claims ?? [];
  const containers = options.containers ?? ['app'];
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, annotations: options.annotations },
      spec: {
        containers: containers.map((c) => ({
          name: c,
          image: 'busybox:1.36',
          command: ['sleep', '3600'],
          volumeMounts: claims.map((claim, i) => ({ name: `v${i}`, mountPath: i === 0 ? '/data' : `/data-${claim}` })),
        })),
        volumes: claims.map((claim, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: claim } })),
      },
    },
  });
  if (options.wait === false) return core.readNamespacedPod({ name, namespace });
  return waitFor(
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      return pod.status?.phase === 'Running' ? pod : undefined;
    },
    20_000,
    `pod ${name} Running`,
  );
}

export function sh(kc: KubeConfig, namespace: string, pod: string, script: string, stdin?: Uint8Array | string, container = 'app'): Promise<ExecResult> {
  return execInPod(kc, { namespace, pod, container }, ['sh', '-c', script], stdin === undefined ? {} : { stdin });
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes. */
export function pseudoRandom(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 255;
  }
  return b;
}

export interface WrittenData {
  /** Regular files under /data: relative path → content. */
  files: Map<string, Buffer>;
  /** Symlinks: relative path → target. */
  symlinks: Map<string, string>;
  dirs: string[];
}

/**
 * Writes a varied tree into the pod's /data through exec: text, binary (through stdin), nested
 * directories, a symlink, an empty file, a name with spaces, an executable script.
 */
export async function writeTestData(kc: KubeConfig, namespace: string, pod: string, seed = 1, binarySize = 3 * 1024 * 1024): Promise<WrittenData> {
  const files = new Map<string, Buffer>();
  const check = (r: ExecResult, what: string) => {
    if (r.exitCode !== 0) throw new Error(`${what}: exit ${r.exitCode}: ${r.stderr.toString()}`);
  };
  check(await sh(kc, namespace, pod, 'mkdir -p /data/docs/deep/er /data/bin /data/empty-dir'), 'mkdir');
  const text = `hello from ${namespace}/${pod} (seed ${seed})\nsecond line\n`;
  check(await sh(kc, namespace, pod, `printf '%s' '${text.replace(/'/g, '')}' > /data/docs/hello.txt`), 'text');
  files.set('docs/hello.txt', Buffer.from(text));
  const nested = `nested ${seed}\n`;
  check(await sh(kc, namespace, pod, `echo 'nested ${seed}' > '/data/docs/deep/er/with space.txt'`), 'nested');
  files.set('docs/deep/er/with space.txt', Buffer.from(nested));
  const blob = pseudoRandom(binarySize, seed);
  check(await sh(kc, namespace, pod, 'cat > /data/bin/blob.bin', blob), 'binary');
  files.set('bin/blob.bin', blob);
  check(await sh(kc, namespace, pod, 'touch /data/empty.txt'), 'empty');
  files.set('empty.txt', Buffer.alloc(0));
  check(await sh(kc, namespace, pod, "printf '#!/bin/sh\\necho run\\n' > /data/bin/run.sh && chmod 755 /data/bin/run.sh"), 'script');
  files.set('bin/run.sh', Buffer.from('#!/bin/sh\necho run\n'));
  check(await sh(kc, namespace, pod, 'ln -s ../docs/hello.txt /data/bin/hello-link'), 'symlink');
  const symlinks = new Map([['bin/hello-link', '../docs/hello.txt']]);
  return { files, symlinks, dirs: ['docs', 'docs/deep', 'docs/deep/er', 'bin', 'empty-dir'] };
}

/** Checks through exec (sha256sum, cat, readlink, ls) that the pod's /data holds `data`. */
export async function readBack(kc: KubeConfig, namespace: string, pod: string, data: WrittenData): Promise<string[]> {
  const problems: string[] = [];
  for (const [path, content] of data.files) {
    const r = await sh(kc, namespace, pod, `sha256sum '/data/${path}'`);
    const got = r.stdout.toString().split(/\s+/)[0];
    if (r.exitCode !== 0 || got !== sha256(content)) problems.push(`sha256 of ${path}: ${r.exitCode} ${got} ≠ ${sha256(content)} ${r.stderr.toString()}`);
    if (content.length < 1024) {
      const c = await sh(kc, namespace, pod, `cat '/data/${path}'`);
      if (!c.stdout.equals(content)) problems.push(`cat ${path}: ${JSON.stringify(c.stdout.toString())}`);
    }
  }
  for (const [path, target] of data.symlinks) {
    const r = await sh(kc, namespace, pod, `readlink '/data/${path}'`);
    if (r.stdout.toString().trim() !== target) problems.push(`readlink ${path}: ${r.stdout.toString().trim()}`);
  }
  for (const dir of data.dirs) {
    const r = await sh(kc, namespace, pod, `test -d '/data/${dir}'`);
    if (r.exitCode !== 0) problems.push(`missing directory ${dir}`);
  }
  const mode = await sh(kc, namespace, pod, 'test -x /data/bin/run.sh');
  if (data.files.has('bin/run.sh') && mode.exitCode !== 0) problems.push('bin/run.sh is not executable');
  return problems;
}

/** Names of the pods of a namespace whose name starts with the prefix. */
export async function podNames(core: CoreV1Api, namespace: string, prefix: string): Promise<string[]> {
  const list = await core.listNamespacedPod({ namespace });
  return list.items.map((p) => p.metadata?.name ?? '').filter((n) => n.startsWith(prefix));
}
