import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { createControllers } from '../controllers/index.js';
import { testingContext } from '../controllers/testing-store.js';
import { T } from '../controllers/util.js';
import type { Controller, ExecRequest, KubeObject } from '../store-api.js';
import { handleExecUpgrade } from './index.js';

interface Outcome {
  stdout: Buffer;
  stderr: Buffer;
  status: Record<string, unknown> | string | undefined;
  firstFrames: number[][];
}

describe('pods/exec over WebSocket', () => {
  let dir: string;
  let server: http.Server;
  let port: number;
  let controllers: Controller[];
  const ctx = { value: undefined as unknown as ReturnType<typeof testingContext> };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-sim-exec-'));
    const c = testingContext(dir);
    ctx.value = c;
    c.store.create(T.storageclasses, undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'hostpath.csi.k8s.io',
    });
    c.store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    c.store.create({ group: '', version: 'v1', resource: 'configmaps' }, 'ns', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg' },
      data: { 'app.conf': 'a=1\n' },
    });
    c.store.create(T.pods, 'ns', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'box' },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'busybox',
            volumeMounts: [
              { name: 'data', mountPath: '/data' },
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'scratch', mountPath: '/scratch' },
            ],
          },
        ],
        volumes: [
          { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    });
    controllers = createControllers();
    for (const k of controllers) k.start(c);
    for (let i = 0; i < 500; i++) {
      const pod = c.store.get(T.pods, 'ns', 'box');
      if ((pod?.status as { phase?: string } | undefined)?.phase === 'Running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    server = http.createServer((_req, res) => res.end());
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const exec: ExecRequest = {
        namespace: 'ns',
        pod: url.searchParams.get('pod') ?? 'box',
        container: url.searchParams.get('container') ?? undefined,
        command: url.searchParams.getAll('command'),
        stdin: url.searchParams.get('stdin') === 'true',
        tty: url.searchParams.get('tty') === 'true',
      };
      handleExecUpgrade(c, req, socket, head, exec);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const k of controllers) k.stop();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  function exec(command: string[], opts: { stdin?: Buffer; frame?: number; protocol?: string; pod?: string; tty?: boolean } = {}): Promise<Outcome> {
    const q = new URLSearchParams();
    for (const c of command) q.append('command', c);
    if (opts.stdin) q.set('stdin', 'true');
    if (opts.pod) q.set('pod', opts.pod);
    if (opts.tty) q.set('tty', 'true');
    const protocol = opts.protocol ?? 'v5.channel.k8s.io';
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?${q}`, [protocol]);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const frames: number[][] = [];
    let status: Outcome['status'];
    return new Promise((resolve, rejectP) => {
      ws.on('open', () => {
        expect(ws.protocol).toBe(protocol);
        if (opts.stdin) {
          const frame = opts.frame ?? 10_000;
          for (let i = 0; i < opts.stdin.length; i += frame) {
            ws.send(Buffer.concat([Buffer.from([0]), opts.stdin.subarray(i, i + frame)]));
          }
          if (protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([255, 0]));
        }
      });
      ws.on('message', (data: Buffer) => {
        if (frames.length < 2) frames.push([...data.subarray(0, 1)].concat(data.length));
        const ch = data[0];
        const payload = data.subarray(1);
        if (ch === 1) out.push(payload);
        else if (ch === 2) err.push(payload);
        else if (ch === 3) {
          const text = payload.toString('utf8');
          status = protocol.startsWith('v4') || protocol.startsWith('v5') ? JSON.parse(text) : text;
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => rejectP(Object.assign(new Error(`HTTP ${res.statusCode}`), { body, statusCode: res.statusCode })));
      });
      ws.on('error', rejectP);
      ws.on('close', () => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), status, firstFrames: frames }));
    });
  }

  it('runs a command and reports Success', async () => {
    const r = await exec(['sh', '-c', 'echo hello; echo oops >&2; cat /etc/cfg/app.conf']);
    expect(r.firstFrames[0]).toEqual([1, 1]); // the empty "ready" frame on stdout
    expect(r.stdout.toString()).toBe('hello\na=1\n');
    expect(r.stderr.toString()).toBe('oops\n');
    expect(r.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('reports a non-zero exit code the way the kubelet does', async () => {
    const r = await exec(['sh', '-c', 'exit 3']);
    expect(r.status).toEqual({
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    const missing = await exec(['nosuchcmd']);
    expect((missing.status as { details: { causes: Array<{ message: string }> } }).details.causes[0]?.message).toBe('127');
  });

  it('streams stdin to tar and data back, byte for byte, over v5 and v4', async () => {
    const { execFileSync } = await import('node:child_process');
    const src = await mkdtemp(join(tmpdir(), 'kube-sim-exec-src-'));
    const payload = Buffer.alloc(2_000_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + (i >> 10)) & 0xff;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(src, 'blob.bin'), payload);
    const archive = execFileSync('tar', ['cf', '-', '-C', src, 'blob.bin'], { maxBuffer: 1 << 26 });
    const x = await exec(['tar', '-xmf', '-', '-C', '/data'], { stdin: archive });
    expect(x.stderr.toString()).toBe('');
    expect(x.status).toEqual({ metadata: {}, status: 'Success' });
    const pvc = ctx.value.store.get(T.pvcs, 'ns', 'data') as KubeObject;
    const pvDir = join(dir, 'volumes', (pvc.spec as { volumeName: string }).volumeName);
    expect((await readFile(join(pvDir, 'blob.bin'))).equals(payload)).toBe(true);
    const sum = await exec(['sha256sum', '/data/blob.bin'], { protocol: 'v4.channel.k8s.io' });
    expect(sum.stdout.toString()).toBe(`${createHash('sha256').update(payload).digest('hex')}  /data/blob.bin\n`);
    expect(sum.status).toEqual({ metadata: {}, status: 'Success' });
    const back = await exec(['tar', 'cf', '-', '/data/blob.bin']);
    const listing = execFileSync('tar', ['xOf', '-', 'data/blob.bin'], { input: back.stdout, maxBuffer: 1 << 26 });
    expect(Buffer.from(listing).equals(payload)).toBe(true);
    await rm(src, { recursive: true, force: true });
  });

  it('ends the session when stdin filled its buffer before the command read it', { timeout: 20_000 }, async () => {
    // 2 MiB in 256 KiB frames (what @kubectl-backup/k8s sends) arrive, and stdin ends, while
    // `sleep` runs: the socket is paused on a full buffer
    const payload = createHash('sha256').update('x').digest().subarray(0, 16);
    const big = Buffer.concat(Array.from({ length: (2 << 20) / 16 }, () => payload));
    const r = await exec(['sh', '-c', 'sleep 0.2; cat > /scratch/big; sha256sum /scratch/big'], {
      stdin: big,
      frame: 256 * 1024,
    });
    expect(r.status).toEqual({ metadata: {}, status: 'Success' });
    expect(r.stdout.toString()).toBe(`${createHash('sha256').update(big).digest('hex')}  /scratch/big\n`);
  });

  it('gives an interactive shell on a terminal', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/exec?command=sh&stdin=true&tty=true`, ['v5.channel.k8s.io']);
    const keys = ['echo hi\r', 'cd /data\r', 'pwdd\x7f\r', '\x04'];
    let screen = '';
    let status: unknown;
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        if (data[0] === 1) {
          screen += data.subarray(1).toString();
          if (screen.endsWith(' # ') && keys.length) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(keys.shift() as string)]));
        } else if (data[0] === 3) status = JSON.parse(data.subarray(1).toString());
      });
      ws.on('error', reject);
      ws.on('close', () => resolve());
    });
    expect(screen).toBe('/ # echo hi\r\nhi\r\n/ # cd /data\r\n/data # pwdd\b \b\r\n/data\r\n/data # exit\r\n');
    expect(status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('does not follow links a pod plants in its root file system or behind a subPath', async () => {
    const { writeFile, stat } = await import('node:fs/promises');
    const victimDir = await mkdtemp(join(tmpdir(), 'kube-sim-victim-'));
    const victim = join(victimDir, 'victim');
    await writeFile(victim, 'untouched');
    await (await import('node:fs/promises')).chmod(victimDir, 0o700);
    const planted = await exec(['sh', '-c', `rm /etc/hostname && ln -s ${victim} /etc/hostname && rm -rf /tmp && ln -s ${victimDir} /tmp`]);
    expect(planted.status).toEqual({ metadata: {}, status: 'Success' });
    const next = await exec(['cat', '/etc/hostname']);
    expect(next.stdout.toString()).toBe('box\n');
    expect(await readFile(victim, 'utf8')).toBe('untouched');
    expect((await stat(victimDir)).mode & 0o7777).toBe(0o700);

    await exec(['ln', '-s', victimDir, '/data/escape']);
    const c = ctx.value;
    c.store.create(T.pods, 'ns', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sub' },
      spec: {
        containers: [{ name: 'main', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/sub', subPath: 'escape' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }],
      },
    });
    for (let i = 0; i < 500; i++) {
      if ((c.store.get(T.pods, 'ns', 'sub')?.status as { phase?: string } | undefined)?.phase === 'Running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await expect(exec(['ls', '/sub'], { pod: 'sub' })).rejects.toMatchObject({ statusCode: 400 });
    await rm(victimDir, { recursive: true, force: true });
  });

  it('gives commands the container environment (env, valueFrom, envFrom)', async () => {
    const c = ctx.value;
    c.store.create({ group: '', version: 'v1', resource: 'secrets' }, 'ns', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'creds' },
      data: { PASSWORD: Buffer.from('s3cret').toString('base64') },
    });
    c.store.create(T.pods, 'ns', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'envy' },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'busybox',
            workingDir: '/work/dir',
            envFrom: [{ secretRef: { name: 'creds' }, prefix: 'DB_' }],
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'CONF', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'app.conf' } } },
              { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
          },
        ],
      },
    });
    for (let i = 0; i < 500; i++) {
      if ((c.store.get(T.pods, 'ns', 'envy')?.status as { phase?: string } | undefined)?.phase === 'Running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const r = await exec(['sh', '-c', 'echo "$GREETING $POD $DB_PASSWORD $CONF"; pwd'], { pod: 'envy' });
    expect(r.stdout.toString()).toBe('hello envy s3cret a=1\n\n/work/dir\n');
  });

  it('refuses unknown pods and unsupported protocols before upgrading', async () => {
    await expect(exec(['true'], { pod: 'ghost' })).rejects.toMatchObject({ statusCode: 404 });
    await expect(exec(['true'], { protocol: 'base64.channel.k8s.io' })).rejects.toMatchObject({ statusCode: 400 });
  });
});
