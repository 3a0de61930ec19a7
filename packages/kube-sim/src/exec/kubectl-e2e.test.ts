/**
 * End-to-end: the real kubectl binaries and @kubernetes/client-node against a running kube-sim
 * (the core's KubeSim): rollout status, wait, exec and cp in both directions. Skipped while the
 * core does not export KubeSim.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Running {
  url: string;
  kubeconfigPath: string;
  stop(): Promise<void>;
}
type Starter = { start(options: { dataDir: string; port?: number }): Promise<Running> };

const core = (await import('../index.js').catch(() => ({}))) as { KubeSim?: Starter };
const KubeSim = core.KubeSim;
const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';
// KUBE_SIM_KUBECTL_VERSIONS=1.27,1.28,…,1.33 widens the matrix (SPDY before 1.30, WebSocket after)
const versions = (process.env.KUBE_SIM_KUBECTL_VERSIONS ?? '1.27,1.33')
  .split(',')
  .map((v) => v.trim())
  .filter((v) => existsSync(join(KUBECTL_DIR, `kubectl.${v}`)));

const manifests = (ns: string) => `
apiVersion: v1
kind: Namespace
metadata:
  name: ${ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: ${ns}
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: busybox:1.36
        volumeMounts:
        - {name: data, mountPath: /var/lib/db}
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 1Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: box-data
  namespace: ${ns}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: box
  namespace: ${ns}
spec:
  containers:
  - name: box
    image: busybox:1.36
    command: [sleep, infinity]
    volumeMounts:
    - {name: data, mountPath: /data}
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: box-data
`;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe.skipIf(!KubeSim || versions.length === 0)('kubectl and client-node against kube-sim', () => {
  let dir: string;
  let sim: Running;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-sim-e2e-'));
    sim = await KubeSim!.start({ dataDir: join(dir, 'data'), port: 0 });
  });

  afterAll(async () => {
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function kubectl(version: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const home = join(dir, `home-${version}`);
      const child = execFile(
        join(KUBECTL_DIR, `kubectl.${version}`),
        ['--context', 'admin', ...args],
        {
          env: { ...process.env, KUBECONFIG: sim.kubeconfigPath, HOME: home, KUBECACHEDIR: join(home, 'cache') },
          maxBuffer: 64 * 1024 * 1024,
          timeout: 90_000,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });
  }

  describe.each(versions)('kubectl %s', (version) => {
    const ns = `e2e-${version.replace('.', '-')}`;

    it('applies workloads and waits for them (rollout status, wait --for=condition=Ready)', async () => {
      const applied = await kubectl(version, ['apply', '-f', '-'], manifests(ns));
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      const rollout = await kubectl(version, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect(rollout.stdout).toContain('successfully rolled out');
      expect(rollout.code).toBe(0);
      const sts = await kubectl(version, ['-n', ns, 'rollout', 'status', 'statefulset/db', '--timeout=60s']);
      expect(sts.stdout).toMatch(/partitioned roll out complete: 2 new pods have been updated|rolling update complete 2 pods at revision db-/);
      expect(sts.code).toBe(0);
      const wait = await kubectl(version, ['-n', ns, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=60s']);
      expect(wait.code).toBe(0);
      expect(wait.stdout.trim().split('\n')).toHaveLength(5);
      const pvcs = await kubectl(version, ['-n', ns, 'get', 'pvc', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}']);
      expect(pvcs.stdout.trim().split(' ').sort()).toEqual(['box-data=Bound', 'data-db-0=Bound', 'data-db-1=Bound']);
      // image digests
      const ids = await kubectl(version, ['-n', ns, 'get', 'pod', '-l', 'app=web', '-o', 'jsonpath={.items[0].status.containerStatuses[0].imageID}']);
      expect(ids.stdout).toBe(`docker.io/library/nginx@sha256:${sha(Buffer.from('nginx:1.25'))}`);
      // a rolling update
      const set = await kubectl(version, ['-n', ns, 'set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
      expect(set.code).toBe(0);
      const rollout2 = await kubectl(version, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s']);
      expect(rollout2.code).toBe(0);
      const rs = await kubectl(version, ['-n', ns, 'get', 'rs', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.spec.replicas} {end}']);
      expect(rs.stdout.trim().split(' ').sort()).toEqual(['0', '2']);
      // the Service's Endpoints and EndpointSlice follow the new pods
      const podIPs = async () =>
        (await kubectl(version, ['-n', ns, 'get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}'])).stdout.split(' ').sort();
      const epIPs = async () =>
        (await kubectl(version, ['-n', ns, 'get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[*].addresses[*].ip}'])).stdout.split(' ').sort();
      for (let i = 0; i < 100 && JSON.stringify(await epIPs()) !== JSON.stringify(await podIPs()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(await epIPs()).toEqual(await podIPs());
      const slice = await kubectl(version, ['-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'jsonpath={.items[*].ports[*].port}']);
      expect(slice.stdout).toBe('8080');
    });

    it('runs a DaemonSet and a Job (rollout status, wait --for=condition=complete)', async () => {
      const more = `
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  namespace: ${ns}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - {name: agent, image: busybox:1.36}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
  namespace: ${ns}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: once, image: busybox:1.36, command: [sh, -c, 'true']}
`;
      expect((await kubectl(version, ['apply', '-f', '-'], more)).code).toBe(0);
      const ds = await kubectl(version, ['-n', ns, 'rollout', 'status', 'daemonset/agent', '--timeout=60s']);
      expect(ds.stdout).toContain('successfully rolled out');
      for (const kind of ['daemonset/agent', 'statefulset/db', 'deployment/web']) {
        const history = await kubectl(version, ['-n', ns, 'rollout', 'history', kind]);
        expect(history.stderr).toBe('');
        expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s/);
      }
      const job = await kubectl(version, ['-n', ns, 'wait', '--for=condition=complete', 'job/once', '--timeout=60s']);
      expect(job.stdout).toContain('condition met');
      const phase = await kubectl(version, ['-n', ns, 'get', 'pods', '-l', 'job-name=once', '-o', 'jsonpath={.items[*].status.phase}']);
      expect(phase.stdout).toBe('Succeeded');
    });

    it('execs commands with their exit codes', async () => {
      const hello = await kubectl(version, ['-n', ns, 'exec', 'box', '--', 'sh', '-c', 'echo hello > /data/greeting && cat /data/greeting']);
      expect(hello.stdout).toBe('hello\n');
      expect(hello.code).toBe(0);
      const fail = await kubectl(version, ['-n', ns, 'exec', 'box', '--', 'sh', '-c', 'echo bad >&2; exit 3']);
      expect(fail.code).toBe(3);
      expect(fail.stderr).toContain('bad');
      const stdin = await kubectl(version, ['-n', ns, 'exec', '-i', 'box', '--', 'sha256sum'], 'piped input\n');
      expect(stdin.stdout).toBe(`${sha(Buffer.from('piped input\n'))}  -\n`);
    });

    it('attaches to a shell pod with kubectl run -i --rm (exit code from the pod status)', async () => {
      const r = await kubectl(version, ['-n', ns, 'run', 'attached', '-i', '--rm', '--restart=Never', '--image=busybox:1.36', '--', 'sh'], 'echo from-attach; exit 3\n');
      expect(r.stdout).toContain('from-attach\n');
      expect(r.code).toBe(3);
      expect((await kubectl(version, ['-n', ns, 'get', 'pod', 'attached'])).code).not.toBe(0);
    });

    it('copies files both ways with kubectl cp, byte for byte', async () => {
      const local = join(dir, `cp-${version}`);
      await mkdir(join(local, 'src', 'nested'), { recursive: true });
      const blob = Buffer.alloc(3_000_000);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 131 + (i >> 12)) & 0xff;
      await writeFile(join(local, 'src', 'blob.bin'), blob);
      await writeFile(join(local, 'src', 'nested', 'ünïcode.txt'), 'text ✓\n');
      const to = await kubectl(version, ['cp', join(local, 'src'), `${ns}/box:/data/copied`]);
      expect(to.stderr).toBe('');
      expect(to.code).toBe(0);
      const sum = await kubectl(version, ['-n', ns, 'exec', 'box', '--', 'sha256sum', '/data/copied/blob.bin']);
      expect(sum.stdout).toBe(`${sha(blob)}  /data/copied/blob.bin\n`);
      const back = await kubectl(version, ['cp', `${ns}/box:/data/copied`, join(local, 'back')]);
      expect(back.code).toBe(0);
      expect((await readFile(join(local, 'back', 'blob.bin'))).equals(blob)).toBe(true);
      expect(await readFile(join(local, 'back', 'nested', 'ünïcode.txt'), 'utf8')).toBe('text ✓\n');
      const single = await kubectl(version, ['cp', `${ns}/box:/data/greeting`, join(local, 'greeting.txt')]);
      expect(single.code).toBe(0);
      expect(await readFile(join(local, 'greeting.txt'), 'utf8')).toBe('hello\n');
      expect((await readdir(join(local, 'back'))).sort()).toEqual(['blob.bin', 'nested']);
    });
  });

  it('snapshots a PVC, restores it into a new PVC, and reclaims everything with the namespace', async () => {
    const version = versions[versions.length - 1]!;
    const ns = 'e2e-snapshots';
    const applied = await kubectl(version, ['apply', '-f', '-'], manifests(ns));
    expect(applied.code).toBe(0);
    expect((await kubectl(version, ['-n', ns, 'wait', '--for=condition=Ready', 'pod/box', '--timeout=60s'])).code).toBe(0);
    const data = Buffer.from('snapshot me \u2713\n');
    const write = await kubectl(version, ['-n', ns, 'exec', '-i', 'box', '--', 'sh', '-c', 'cat > /data/state.txt && sync'], data.toString());
    expect(write.code).toBe(0);
    const snap = `
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: snap
  namespace: ${ns}
spec:
  source:
    persistentVolumeClaimName: box-data
`;
    expect((await kubectl(version, ['apply', '-f', '-'], snap)).code).toBe(0);
    const ready = await kubectl(version, ['-n', ns, 'wait', '--for=jsonpath={.status.readyToUse}=true', 'volumesnapshot/snap', '--timeout=60s']);
    expect(ready.stderr).toBe('');
    expect(ready.code).toBe(0);
    // later writes do not change the snapshot
    await kubectl(version, ['-n', ns, 'exec', 'box', '--', 'sh', '-c', 'echo changed > /data/state.txt']);
    const restore = `
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: restored
  namespace: ${ns}
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: snap
---
apiVersion: v1
kind: Pod
metadata:
  name: reader
  namespace: ${ns}
spec:
  containers:
  - name: reader
    image: busybox:1.36
    volumeMounts:
    - {name: data, mountPath: /restored, readOnly: true}
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: restored
`;
    expect((await kubectl(version, ['apply', '-f', '-'], restore)).code).toBe(0);
    expect((await kubectl(version, ['-n', ns, 'wait', '--for=condition=Ready', 'pod/reader', '--timeout=60s'])).code).toBe(0);
    const read = await kubectl(version, ['-n', ns, 'exec', 'reader', '--', 'cat', '/restored/state.txt']);
    expect(Buffer.from(read.stdout).equals(data)).toBe(true);
    const ro = await kubectl(version, ['-n', ns, 'exec', 'reader', '--', 'sh', '-c', 'echo x > /restored/new']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain('Read-only file system');

    const pvs = await kubectl(version, ['get', 'pv', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.claimRef.namespace}{"\\n"}{end}']);
    const mine = pvs.stdout.split('\n').filter((l) => l.endsWith(` ${ns}`)).map((l) => l.split(' ')[0]!);
    expect(mine).toHaveLength(4); // box-data, restored, data-db-0, data-db-1
    const content = (await kubectl(version, ['-n', ns, 'get', 'volumesnapshot', 'snap', '-o', 'jsonpath={.status.boundVolumeSnapshotContentName}'])).stdout;
    const dataDir = join(dir, 'data');
    expect(existsSync(join(dataDir, 'snapshots', content))).toBe(true);
    const del = await kubectl(version, ['delete', 'namespace', ns, '--timeout=60s']);
    expect(del.code).toBe(0);
    for (let i = 0; i < 300; i++) {
      const left = (await kubectl(version, ['get', 'pv', '-o', 'name'])).stdout;
      if (!mine.some((pv) => left.includes(pv))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const left = (await kubectl(version, ['get', 'pv', '-o', 'name'])).stdout;
    for (const pv of mine) {
      expect(left).not.toContain(pv);
      expect(existsSync(join(dataDir, 'volumes', pv))).toBe(false);
    }
    expect((await kubectl(version, ['get', 'volumesnapshotcontent', content])).code).not.toBe(0);
    expect(existsSync(join(dataDir, 'snapshots', content))).toBe(false);
  });

  it('keeps workloads and volume data across a restart without duplicating anything', async () => {
    const version = versions[versions.length - 1]!;
    const ns = 'e2e-restart';
    const restartDir = join(dir, 'restart');
    let second: Running | undefined;
    const first = await KubeSim!.start({ dataDir: restartDir, port: 0 });
    try {
      const run = (s: Running, args: string[], input?: string) =>
        new Promise<{ code: number; stdout: string }>((resolve) => {
          const child = execFile(
            join(KUBECTL_DIR, `kubectl.${version}`),
            ['--context', 'admin', ...args],
            { env: { ...process.env, KUBECONFIG: s.kubeconfigPath, HOME: join(dir, 'home-restart') }, timeout: 90_000 },
            (err, stdout) => resolve({ code: err ? 1 : 0, stdout: String(stdout) }),
          );
          if (input !== undefined) child.stdin?.end(input);
        });
      expect((await run(first, ['apply', '-f', '-'], manifests(ns))).code).toBe(0);
      expect((await run(first, ['-n', ns, 'wait', '--for=condition=Ready', 'pod', '--all', '--timeout=60s'])).code).toBe(0);
      expect((await run(first, ['-n', ns, 'exec', 'box', '--', 'sh', '-c', 'echo persisted > /data/p.txt'])).code).toBe(0);
      const before = (await run(first, ['-n', ns, 'get', 'pods,rs,pvc', '-o', 'name'])).stdout.split('\n').sort();
      await first.stop();
      second = await KubeSim!.start({ dataDir: restartDir, port: 0 });
      expect((await run(second, ['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=60s'])).code).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      const after = (await run(second, ['-n', ns, 'get', 'pods,rs,pvc', '-o', 'name'])).stdout.split('\n').sort();
      expect(after).toEqual(before);
      expect((await run(second, ['-n', ns, 'exec', 'box', '--', 'cat', '/data/p.txt'])).stdout).toBe('persisted\n');
    } finally {
      await (second ?? first).stop().catch(() => {});
    }
  });

  it('execs through @kubernetes/client-node (v5 with stdin close)', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    kc.setCurrentContext('admin');
    const ns = `e2e-${versions[0]!.replace('.', '-')}`;
    const exec = new k8s.Exec(kc);
    const run = (command: string[], input?: Buffer) =>
      new Promise<{ out: Buffer; err: string; status: k8s.V1Status }>((resolve, reject) => {
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        const sink = (arr: Buffer[]) =>
          new Writable({
            write(c, _e, cb) {
              arr.push(Buffer.from(c));
              cb();
            },
          });
        const stdin = input ? new PassThrough() : null;
        exec
          .exec(ns, 'box', 'box', command, sink(out), sink(errs), stdin, false, (status) =>
            setTimeout(() => resolve({ out: Buffer.concat(out), err: Buffer.concat(errs).toString(), status }), 20),
          )
          .then(() => stdin?.end(input))
          .catch(reject);
      });
    const payload = Buffer.alloc(1_000_000, 7);
    const write = await run(['sh', '-c', 'cat > /data/from-client-node.bin'], payload);
    expect(write.status.status).toBe('Success');
    const read = await run(['cat', '/data/from-client-node.bin']);
    expect(read.out.equals(payload)).toBe(true);
    const failed = await run(['sh', '-c', 'exit 5']);
    expect(failed.status.status).toBe('Failure');
    expect(failed.status.reason).toBe('NonZeroExitCode');
    expect(failed.status.details?.causes?.[0]).toEqual({ reason: 'ExitCode', message: '5' });
  });
});
