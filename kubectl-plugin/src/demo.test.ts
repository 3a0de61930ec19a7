/**
 * `npm run demo` runs the built dist/demo.js: kube-sim as a separate process seeded with the
 * fixture apps, the real `kubectl backup` commands, a comparison of the original and restored
 * namespaces. Then the cluster stays up for a person: the real kubectl and the plugin (also
 * through kubectl's plugin discovery) work with the printed settings until Ctrl-C, which stops
 * kube-sim and exits 0.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { json, runBin, type RunResult } from './test-util/cli.js';

const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));
const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';

let dir: string;
let env: Record<string, string>;
const running: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kb-demo-'));
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    KUBECTL_BACKUP_DEMO_DIR: path.join(dir, 'demo'),
    KUBECTL_BACKUP_TEST_SCRYPT: 'fast',
  };
});

afterEach(() => {
  // a test that failed half-way leaves nothing running
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => rm(dir, { recursive: true, force: true }));

/** The value of `export NAME=…` in the printed instructions. */
function exported(stdout: string, name: string): string {
  const m = new RegExp(`^ +export ${name}=(\\S+)`, 'm').exec(stdout);
  expect(m, `no "export ${name}=" in:\n${stdout}`).not.toBeNull();
  return m![1]!;
}

function simPid(stdout: string): number {
  const m = /^kube-sim \(pid (\d+)\) ready on https:\/\//m.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return Number(m![1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves to the connection error's code (ECONNREFUSED once nothing listens). */
async function portState(kubeconfig: string): Promise<string> {
  const kc = parse(await readFile(kubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { server: string } }>;
  };
  const url = new URL(kc.clusters[0]!.cluster.server);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.once('connect', () => (socket.destroy(), resolve('open')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

function kubectl(args: string[], extra: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) =>
    execFile(KUBECTL, args, { env: { ...env, ...extra }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({
        code: err ? Number((err as { code?: unknown }).code) || 1 : 0,
        stdout: String(stdout),
        stderr: String(stderr),
      }),
    ),
  );
}

/** The demo in a child process, its output collected; `until` waits for a line. */
function startDemo(extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [DEMO], {
    cwd: dir,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const until = async (re: RegExp, timeoutMs = 120_000) => {
    const end = Date.now() + timeoutMs;
    while (!re.test(out.stdout)) {
      if (child.exitCode !== null || Date.now() > end)
        throw new Error(`no ${re} (exit ${child.exitCode}):\n${out.stdout}\n${out.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, out, exited, until };
}

describe('npm run demo', () => {
  it('runs kube-sim, backs up a namespace, restores it into another, compares, and exits with --no-wait', async () => {
    const r = await runBin(['--no-wait'], env, dir, DEMO);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const out = r.stdout;
    expect(out).toContain('repository password: "demo" (a demo-only default');
    const headings = [...out.matchAll(/^\[(\d+)\/(\d+)\] /gm)].map((m) => `${m[1]}/${m[2]}`);
    expect(headings).toEqual(Array.from({ length: 10 }, (_, i) => `${i + 1}/10`));

    expect(out).toMatch(/^ready after .*: 3 Deployments, 1 StatefulSet, 9 pods$/m);
    expect(out).toMatch(/^\$ kubectl exec -n shop mysql-0 -c mysql -i -- sh -c '.*orders\.csv'/m);
    expect(out).toMatch(
      /^\$ kubectl backup create shop-demo -n shop\nbackup shop-demo of namespace shop saved as snapshot [0-9a-f]{8} in /m,
    );
    expect(out).toMatch(/ 3 volume\(s\) \(/);
    expect(out).toMatch(/^\$ kubectl backup list -A\nNAMESPACE +NAME .*\nshop +shop-demo /m);
    expect(out).toMatch(
      /^\$ kubectl backup restore shop-demo --target-namespace shop-restored\nrestored backup shop-demo into namespace shop-restored: \d+ created, .* 0 failed/m,
    );
    for (const n of [0, 1, 2]) expect(out).toContain(`  volume data-mysql-${n}: restored\n`);
    expect(out).toMatch(/^\$ kubectl backup describe shop-demo\nName: +shop-demo\n/m);
    expect(out).toMatch(/^Restores:\n.*\n +shop-demo-restore-\S+ .* shop-restored +success$/m);

    const objects = /^objects: (\d+) in shop, (\d+) in shop-restored/m.exec(out);
    expect(objects?.[1]).toBe(objects?.[2]);
    expect(Number(objects?.[1])).toBeGreaterThanOrEqual(12);
    expect(out).toContain('  same kinds and names\n');
    expect(out).toMatch(/^volume data-mysql-0: 2 files, 2\.00 MiB — identical/m);
    expect(out).toMatch(/^volume data-mysql-2: 1 files, 21 B — identical/m);
    expect(out).toContain('result: the restored namespace shop-restored matches shop\n');
    expect(out).toMatch(/--no-wait: stopping the cluster now\nkube-sim stopped\n$/);

    // the printed settings point at what the demo made
    const kubeconfig = exported(out, 'KUBECONFIG');
    expect(path.isAbsolute(kubeconfig) && existsSync(kubeconfig)).toBe(true);
    expect(await portState(kubeconfig)).toBe('ECONNREFUSED');
    expect(alive(simPid(out))).toBe(false);
    const repo = /^ +export KUBECTL_BACKUP_REPOSITORY=(\S+) KUBECTL_BACKUP_PASSWORD=demo$/m.exec(
      out,
    )?.[1];
    expect(repo).toBe(path.join(dir, 'demo', 'repository'));
    const list = json<Array<{ name: string; namespace: string; volumes: number }>>(
      await runBin(
        ['list', '-A', '-o', 'json'],
        {
          ...env,
          KUBECTL_BACKUP_REPOSITORY: repo,
          KUBECTL_BACKUP_PASSWORD: 'demo',
        },
        dir,
      ),
    );
    expect(list.map((b) => [b.namespace, b.name, b.volumes])).toEqual([['shop', 'shop-demo', 3]]);
    const binDir = /^ +export PATH=(\S+):\$PATH$/m.exec(out)?.[1];
    expect(existsSync(path.join(binDir!, 'kubectl-backup'))).toBe(true);
  }, 240_000);

  it('keeps the cluster up for kubectl and kubectl backup until Ctrl-C, then stops kube-sim and exits 0', async () => {
    const demo = startDemo();
    await demo.until(/^Press Ctrl-C to stop the cluster\.$/m, 180_000);
    const out = demo.out.stdout;
    const settings = {
      KUBECONFIG: exported(out, 'KUBECONFIG'),
      KUBECTL_BACKUP_REPOSITORY: /KUBECTL_BACKUP_REPOSITORY=(\S+)/.exec(out)![1]!,
      KUBECTL_BACKUP_PASSWORD: 'demo',
      // what `export PATH=…:$PATH` gives, with node for the plugin's #! line
      PATH: `${exported(out, 'PATH').replace(/:\$PATH$/, '')}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
    };

    const ns = await kubectl(['get', 'ns', '-o', 'name'], settings);
    expect(ns.code, ns.stderr).toBe(0);
    expect(ns.stdout).toContain('namespace/shop\n');
    expect(ns.stdout).toContain('namespace/shop-restored\n');
    const sts = await kubectl(
      [
        'get',
        'statefulset',
        'mysql',
        '-n',
        'shop-restored',
        '-o',
        'jsonpath={.status.readyReplicas}',
      ],
      settings,
    );
    expect(sts.stdout).toBe('3');

    // `kubectl backup …` through kubectl's plugin discovery on the printed PATH
    const viaKubectl = await kubectl(['backup', 'list', '-A'], settings);
    expect(viaKubectl.code, viaKubectl.stderr).toBe(0);
    expect(viaKubectl.stdout).toMatch(/^NAMESPACE +NAME .*\nshop +shop-demo /);
    const direct = await runBin(['list', '-A'], { ...env, ...settings }, dir);
    expect(direct.stdout).toBe(viaKubectl.stdout);

    const pid = simPid(out);
    expect(alive(pid)).toBe(true);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.out.stdout).toMatch(/\nSIGINT: stopping kube-sim\nkube-sim stopped\n$/);
    expect(demo.out.stderr).toBe('');
    expect(alive(pid)).toBe(false);
    expect(await portState(settings.KUBECONFIG)).toBe('ECONNREFUSED');
  }, 240_000);

  it('names the step it was interrupted in, stops kube-sim and exits 130', async () => {
    const demo = startDemo({ KUBECTL_BACKUP_DEMO_EXIT: '1' });
    await demo.until(/^\[3\/10\] /m);
    const pid = simPid(demo.out.stdout);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(130);
    expect(demo.out.stderr).toMatch(/^demo interrupted during step \d+\/10 "[^"]+"\n$/);
    expect(demo.out.stdout).toMatch(/kube-sim stopped\n$/);
    expect(alive(pid)).toBe(false);
    expect(await portState(path.join(dir, 'demo', 'kubeconfig'))).toBe('ECONNREFUSED');
  }, 240_000);
});
