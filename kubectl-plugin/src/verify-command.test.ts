/**
 * `kubectl backup verify` and `kubectl backup repo info` end to end: the built executable
 * against its own kube-sim, a namespace with a ConfigMap, a Deployment and a PVC whose data is
 * written with the real `kubectl exec`, a repository in a temp directory that the last test
 * damages on disk.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock, LocalStorage, Repository } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type RunResult } from './test-util/cli.js';
import {
  clusterSandbox,
  ok,
  PASSWORD,
  waitFor,
  workloadWithPvc,
  type ClusterSandbox,
} from './test-util/cluster.js';

let c: ClusterSandbox;
let repoDir: string;

/** `kubectl backup …` with the sandbox repository and the simulator's kubeconfig. */
const kb = (args: string[]) => c.kb(args);

/** `kubectl backup …` with no kubeconfig at all (none in the sandbox HOME either). */
const kbOffline = (args: string[]): Promise<RunResult> => c.sb.run(args);

const kubectl = (args: string[], input?: string) => c.kubectl(args, input);

const APP = `
apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { color: blue, size: large }
---${workloadWithPvc({
  name: 'web',
  pvc: 'data',
  mountPath: '/data',
  containerExtra: '          envFrom: [{ configMapRef: { name: settings } }]\n',
})}`;

/** ~400 KB of deterministic, poorly compressible text (base64 of pseudo-random bytes). */
function rows(): string {
  const out: string[] = [];
  for (let i = 0; i < 4000; i++) out.push(createHash('sha512').update(`row ${i}`).digest('base64'));
  return `${out.join('\n')}\n`;
}

async function filesUnder(dir: string): Promise<Array<{ file: string; size: number }>> {
  const out: Array<{ file: string; size: number }> = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    out.push({ file, size: (await stat(file)).size });
  }
  return out;
}

async function namespaces(): Promise<string[]> {
  const r = await kubectl(['get', 'namespaces', '-o', 'name']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

interface Check {
  name: string;
  ok: boolean;
  problems?: string[];
}
interface VerifyDoc {
  backup: string;
  result: string;
  checks: Check[];
  scratchNamespace?: string;
  record?: string;
}
interface AuditEntry {
  seq: number;
  time: string;
  action: string;
  target?: string;
  outcome: string;
}

beforeAll(async () => {
  c = await clusterSandbox();
  repoDir = c.repoDir;
  await ok(kubectl(['create', 'namespace', 'app']));
  await ok(kubectl(['apply', '-n', 'app', '-f', '-'], APP));
  await waitFor('deployment web available', async () => {
    const r = await kubectl(['get', 'deployment', 'web', '-n', 'app', '-o', 'json']);
    const d = JSON.parse(r.stdout) as { status?: { availableReplicas?: number } };
    return (d.status?.availableReplicas ?? 0) >= 1;
  });
  const pod = (
    await ok(
      kubectl([
        'get',
        'pods',
        '-n',
        'app',
        '-l',
        'app=web',
        '-o',
        'jsonpath={.items[0].metadata.name}',
      ]),
    )
  ).stdout;
  expect(pod).toMatch(/^web-/);
  const exec = (script: string, input?: string) =>
    ok(kubectl(['exec', '-i', '-n', 'app', pod, '--', 'sh', '-c', script], input));
  await exec('cat > /data/rows.txt', rows());
  await exec('mkdir -p /data/sub && echo "hello from the pod" > /data/sub/note.txt');
  expect((await exec('wc -c < /data/rows.txt')).stdout.trim()).toBe(String(rows().length));
  await ok(kb(['create', 'app-1', '-n', 'app', '--volumes', 'fs']));
}, 180_000);

afterAll(() => c?.dispose());

describe('kubectl backup verify', () => {
  it('checks a backup without any kubeconfig: a table of checks, or one JSON document', async () => {
    const r = await ok(kbOffline(['verify', 'app-1']));
    expect(r.stdout).toMatch(/^CHECK +RESULT +DETAIL\nintegrity +ok +\d+ items\n/);
    expect(r.stdout).not.toContain('scratch namespace');
    expect(r.stdout).toMatch(/\nrecord app-1-verify-\S+ \(see "kubectl backup logs app-1-verify-/);
    expect(r.stdout).toMatch(/\nverify of backup app-1 passed\n$/);
    expect(r.stderr).toBe('');

    const j = await ok(kbOffline(['verify', 'app-1', '--read-data', '--json']));
    const doc = json<VerifyDoc>(j);
    expect(doc).toMatchObject({ backup: 'app-1', result: 'passed' });
    expect(doc.checks).toEqual([
      expect.objectContaining({
        name: 'integrity',
        ok: true,
        detail: expect.stringMatching(/all data read/),
      }),
    ]);
    const progress = j.stderr
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; message: string });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.type === 'progress')).toBe(true);
    expect(progress[0]!.message).toContain('app-1');

    const yaml = await ok(kbOffline(['verify', 'latest', '-n', 'app', '-o', 'yaml']));
    expect(yaml.stdout).toMatch(/^backup: app-1\n/m);
    expect(yaml.stdout).toMatch(/^result: passed$/m);
  });

  it('--read-data --restore-test restores into a scratch namespace, compares, deletes it; list shows it verified', async () => {
    const before = await namespaces();
    const r = await ok(
      kb(['verify', 'app-1', '--read-data', '--restore-test', '--wait-timeout', '90s']),
    );
    const table = r.stdout.split('\n');
    for (const check of ['integrity', 'restore', 'readiness', 'objects', 'volumes'])
      expect(
        table.some((l) => new RegExp(`^${check} +ok\\b`).test(l)),
        `${check} ok in\n${r.stdout}`,
      ).toBe(true);
    expect(r.stdout).toMatch(/^volumes +ok +1 volume\(s\)$/m);
    const scratch = /^scratch namespace (\S+) deleted$/m.exec(r.stdout)?.[1];
    expect(scratch).toMatch(/^verify-app-1-[0-9a-f]{6}$/);
    expect(r.stdout).toMatch(/\nverify of backup app-1 passed\n$/);

    // gone, as the real kubectl sees it, and nothing else left behind
    const gone = await kubectl(['get', 'namespace', scratch!]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/not ?found/i);
    expect(await namespaces()).toEqual(before);

    const list = json<Array<{ name: string; verified?: { result: string; record: string } }>>(
      await ok(kb(['list', '-n', 'app', '-o', 'json'])),
    );
    expect(list).toEqual([
      expect.objectContaining({
        name: 'app-1',
        verified: expect.objectContaining({ result: 'passed' }),
      }),
    ]);
    const shown = (await ok(kb(['list', '-n', 'app']))).stdout.split('\n');
    expect(shown[0]).toMatch(/ VERIFIED$/);
    expect(shown[1]).toMatch(/^app-1 .* passed$/);

    const audit = json<AuditEntry[]>(await ok(kb(['audit', '-o', 'json'])));
    const verifies = audit.filter((e) => e.action === 'backup.verify');
    expect(verifies).toHaveLength(4); // three without a cluster, this one
    expect(verifies.at(-1)).toMatchObject({ target: 'app-1', outcome: 'success' });
    expect(audit.some((e) => e.action === 'restore.create' && e.target === 'app-1')).toBe(true);
    expect((await ok(kb(['audit', '--verify']))).stdout).toMatch(/chain intact/);
  });

  it('refuses unknown backups, flags without --restore-test, and an existing scratch namespace', async () => {
    const unknown = await kbOffline(['verify', 'nope']);
    expect(unknown).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: no backup named "nope" in the repository (see `kubectl backup list -A`)\n',
    });

    const usage = await kbOffline(['verify', 'app-1', '--keep-scratch', '--mover-image', 'x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe(
      'error: --keep-scratch, --mover-image apply only with --restore-test\n',
    );

    const audit = (await ok(kb(['audit', '-o', 'json']))).stdout;
    const existing = await kb(['verify', 'app-1', '--restore-test', '--scratch-namespace', 'app']);
    expect(existing.code).toBe(1);
    expect(existing.stderr).toBe(
      'error: namespace app already exists; a scratch namespace must be new (it is deleted after the test)\n',
    );
    expect(await namespaces()).toContain('namespace/app');
    expect((await ok(kubectl(['get', 'configmap', 'settings', '-n', 'app']))).code).toBe(0);
    expect((await ok(kb(['audit', '-o', 'json']))).stdout).toBe(audit);
  });
});

describe('kubectl backup repo info', () => {
  it('describes the repository; its counts match the files; it takes no lock and writes no audit entry', async () => {
    const snapshots = json<Array<{ tags: string[] }>>(
      await ok(kbOffline(['repo', 'snapshots', '-o', 'json'])),
    );
    const auditBefore = json<AuditEntry[]>(await ok(kbOffline(['repo', 'audit', '-o', 'json'])));
    const packs = await filesUnder(path.join(repoDir, 'data'));
    const index = await filesUnder(path.join(repoDir, 'index'));
    const everything = await filesUnder(repoDir);

    const info = json<{
      location: string;
      id: string;
      version: number;
      chunker: { algorithm: string; avgSize: number };
      compression: { algorithm: string; level: number };
      encryption: string;
      keys: number;
      snapshots: { total: number; byKind: Record<string, number> };
      storage: {
        packs: { count: number; bytes: number };
        index: { count: number; bytes: number };
        totalBytes: number;
      };
      locks: unknown[];
      audit: { entries: number; last?: { seq: number; time: string; action: string } };
    }>(await ok(kbOffline(['repo', 'info', '-o', 'json'])));
    expect(info.location).toBe(repoDir);
    expect(info.id).toMatch(/^[0-9a-f]{64}$/);
    expect(info).toMatchObject({
      version: 1,
      encryption: 'aes-256-gcm',
      keys: 1,
      compression: { algorithm: 'zstd', level: 3 },
    });
    expect(info.chunker.algorithm).toBe('fastcdc-gear32-v1');
    // one backup, four verify records (one with its restore record), as tagged in the repository
    const kind = (s: { tags: string[] }) =>
      s.tags.find((t) => t.startsWith('kubectl-backup/kind='))?.split('=')[1];
    expect(info.snapshots.total).toBe(snapshots.length);
    expect(info.snapshots.byKind).toEqual({
      'namespace-backup': 1,
      'restore-record': 1,
      'verify-record': 4,
    });
    expect(snapshots.filter((s) => kind(s) === 'verify-record')).toHaveLength(4);
    expect(info.storage.packs).toEqual({
      count: packs.length,
      bytes: packs.reduce((n, f) => n + f.size, 0),
    });
    expect(info.storage.packs.count).toBeGreaterThan(0);
    expect(info.storage.index).toEqual({
      count: index.length,
      bytes: index.reduce((n, f) => n + f.size, 0),
    });
    expect(info.storage.totalBytes).toBe(everything.reduce((n, f) => n + f.size, 0));
    expect(info.locks).toEqual([]);
    expect(info.audit.entries).toBe(auditBefore.length);
    expect(info.audit.last).toMatchObject({
      seq: auditBefore.at(-1)!.seq,
      time: auditBefore.at(-1)!.time,
      action: 'backup.verify',
    });
    const raw = JSON.stringify(info);
    expect(raw).not.toMatch(/idKey|gearSeed|identity/);

    // a held lock is shown with its holder; info itself leaves no lock and no audit entry behind
    const repo = await Repository.open(new LocalStorage(repoDir), PASSWORD, { skipIndex: true });
    const lock = await acquireLock(repo, {
      exclusive: false,
      user: 'alice',
      host: 'laptop-7',
      pid: 4242,
      refreshMs: 0,
    });
    try {
      const table = await ok(kbOffline(['repo', 'info']));
      expect(table.stdout).toMatch(
        new RegExp(`^Location: +${repoDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`),
      );
      expect(table.stdout).toMatch(
        /^Snapshots: +6 \(1 namespace-backup, 1 restore-record, 4 verify-record\)$/m,
      );
      expect(table.stdout).toMatch(new RegExp(`^Packs: +${packs.length} files?, `, 'm'));
      expect(table.stdout).toMatch(
        new RegExp(
          `^Audit log: +${auditBefore.length} entries, last .* \\(backup\\.verify by `,
          'm',
        ),
      );
      expect(table.stdout).toMatch(
        /^Locks: +1\n {2}shared lock held by alice@laptop-7 \(pid 4242\) since \d{4}-\d\d-\d\d /m,
      );
      expect(table.stdout).not.toMatch(/idKey|gearSeed/);
    } finally {
      await lock.release();
    }
    expect(await filesUnder(path.join(repoDir, 'locks'))).toEqual([]);
    expect(json<AuditEntry[]>(await ok(kbOffline(['repo', 'audit', '-o', 'json'])))).toEqual(
      auditBefore,
    );
  });
});

describe('kubectl backup verify of a damaged repository', () => {
  it('fails with exit 1 and names what is broken', async () => {
    // the largest pack holds the backup's volume data: overwrite its middle third
    const packs = (await filesUnder(path.join(repoDir, 'data'))).sort((a, b) => b.size - a.size);
    const pack = packs[0]!;
    const bytes = await readFile(pack.file);
    const from = Math.floor(bytes.length / 3);
    for (let i = from; i < 2 * from; i++) bytes[i] = bytes[i]! ^ 0x5a;
    await writeFile(pack.file, bytes);

    const r = await kbOffline(['verify', 'app-1', '--read-data']);
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(1);
    expect(r.stdout).toMatch(/^integrity +FAILED +\d+ problem\(s\)/m);
    expect(r.stdout).toMatch(/^ {2}integrity: volumes\/data\.tar: .+$/m);
    expect(r.stdout).toMatch(/\nverify of backup app-1 FAILED: integrity: .+\n$/);
    expect(r.stderr).toMatch(/^error: verify of backup app-1 failed: integrity: \S+: .+\n$/);
    expect(r.stderr.split('\n')).toHaveLength(2); // one line

    const audit = json<AuditEntry[]>(await ok(kbOffline(['audit', '-o', 'json'])));
    expect(audit.at(-1)).toMatchObject({
      action: 'backup.verify',
      target: 'app-1',
      outcome: 'failure',
    });
    const list = json<Array<{ verified?: { result: string } }>>(
      await ok(kbOffline(['list', '-n', 'app', '-o', 'json'])),
    );
    expect(list[0]!.verified?.result).toBe('failed');
  });
});
