/**
 * Ctrl-C during `kubectl backup create`: the built executable, interrupted while it reads a PVC
 * through a mover pod, exits 130 with a message that says how to resume, saves no backup, leaves
 * no mover pod, clone or snapshot behind and a repository that checks clean; the same command
 * run again succeeds and restores the bytes.
 */
import { spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, json } from './test-util/cli.js';
import {
  clusterSandbox,
  ok,
  waitFor,
  workloadWithPvc,
  type ClusterSandbox,
} from './test-util/cluster.js';

const MANAGED = 'app.kubernetes.io/managed-by=kubectl-backup';

let c: ClusterSandbox;
// text (kubectl's stdin is fed as a string here); 3 MiB of it
const data = Buffer.from(randomBytes(3 << 19).toString('hex'));
const kubectl = (args: string[], input?: string) => c.kubectl(args, input);
const kb = (args: string[]) => c.kb(args);

/** Objects the backup tool made for itself (mover pods, clones, snapshots) still in `ns`. */
async function leftovers(ns: string): Promise<string> {
  const r = await kubectl([
    'get',
    'pods,pvc,volumesnapshots',
    '-n',
    ns,
    '-l',
    MANAGED,
    '-o',
    'name',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

beforeAll(async () => {
  c = await clusterSandbox();
  await ok(kubectl(['create', 'namespace', 'app']));
  await ok(
    kubectl(
      ['apply', '-n', 'app', '-f', '-'],
      workloadWithPvc({ name: 'web', pvc: 'data', mountPath: '/data' }),
    ),
  );
  await ok(kubectl(['rollout', 'status', 'deployment/web', '-n', 'app', '--timeout=60s']));
  await ok(
    kubectl(
      ['exec', '-i', '-n', 'app', 'deploy/web', '--', 'sh', '-c', 'cat > /data/blob'],
      data.toString(),
    ),
  );
}, 120_000);

afterAll(() => c?.dispose());

describe('an interrupted kubectl backup create', () => {
  it('exits 130, says how to resume, leaves nothing behind; the next run succeeds', async () => {
    // Mover exec sessions hang for a while: the backup is caught in the middle of its volumes.
    const slow = c.sim.failures.add({ verb: 'create', resource: 'pods/exec', delayMs: 30_000 });
    const child = spawn(
      process.execPath,
      [BIN, 'create', 'app-1', '-n', 'app', '--volumes', 'fs', '--json'],
      {
        cwd: c.sb.dir,
        env: { ...c.sb.env, KUBECONFIG: c.sim.kubeconfigPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor('a mover pod', async () => (await leftovers('app')).includes('pod/'));
    child.kill('SIGINT');
    const code = await exited;
    c.sim.failures.remove(slow);

    expect(code, stderr).toBe(130);
    expect(stderr).toContain(
      'error: backup interrupted: no backup was saved and the repository is consistent; run the same command again to resume',
    );
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace without --debug
    expect((await ok(kb(['list', '-n', 'app']))).stdout).toBe('no backups of namespace app\n');
    await waitFor('cleanup', async () => (await leftovers('app')) === '');
    await ok(kb(['repo', 'check']));

    const again = json<{ name: string; volumes: Array<{ pvc: string; bytes: number }> }>(
      await ok(kb(['create', 'app-1', '-n', 'app', '--volumes', 'fs', '--json'])),
    );
    expect(again.name).toBe('app-1');
    expect(again.volumes).toHaveLength(1);
    expect(again.volumes[0]).toMatchObject({ pvc: 'data' });
    expect(again.volumes[0]!.bytes).toBeGreaterThanOrEqual(data.length); // a tar of the volume
    const audit = (await ok(kb(['audit', '-n', 'app']))).stdout;
    expect(audit).toMatch(/backup\.create +app-1 +canceled/);
    expect(audit).toMatch(/backup\.create +app-1 +success/);

    // the bytes come back
    await ok(kb(['restore', 'app-1', '--target-namespace', 'app-copy', '--wait-timeout', '60s']));
    const sum = await kubectl([
      'exec',
      '-n',
      'app-copy',
      'deploy/web',
      '--',
      'sha256sum',
      '/data/blob',
    ]);
    expect(sum.stdout.split(/\s+/)[0]).toBe(createHash('sha256').update(data).digest('hex'));
  }, 180_000);
});
