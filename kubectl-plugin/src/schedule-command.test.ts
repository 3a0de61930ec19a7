/**
 * `kubectl backup schedule create|list|delete` end to end: the built executable against a
 * kube-sim of its own, the real kubectl to look at what it made, a repository in a temp
 * directory (the audit log), and the job's own command run as the schedule's ServiceAccount.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startTestSim, type TestSim } from '@kubectl-backup/kube-sim';
import { json, sandbox, type RunResult, type Sandbox } from './test-util/cli.js';

const KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const NS = 'shop';
const PASSWORD = 'secret-7e1b-for-the-repo';
const LABEL = 'backup.kubectl.io/schedule';

let sim: TestSim;
let sb: Sandbox;
let repo: string;

function kb(args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> {
  return sb.run(args, { KUBECONFIG: sim.kubeconfigPath, ...env });
}

function kubectl(args: string[], input?: string) {
  return sim.kubectl(['--kubeconfig', sim.kubeconfigPath, ...args], { binary: KUBECTL, input });
}

async function ok(r: Promise<RunResult> | RunResult): Promise<RunResult> {
  const res = await r;
  expect(res.code, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);
  return res;
}

/** `schedule create NAME -n shop …` with the sandbox repository, which the test's pods share. */
function createSchedule(name: string, extra: string[] = []): Promise<RunResult> {
  return kb([
    'schedule',
    'create',
    name,
    '-n',
    NS,
    '--schedule',
    '0 2 * * *',
    '--password-secret',
    'kb-password',
    '--allow-local-repo',
    ...extra,
  ]);
}

interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef: { name: string; key: string } };
  }>;
}

interface CronJob {
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    schedule: string;
    suspend: boolean;
    concurrencyPolicy: string;
    jobTemplate: {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            initContainers?: Container[];
            containers: Container[];
          };
        };
      };
    };
  };
}

async function cronJob(name: string): Promise<CronJob> {
  const r = await ok(kubectl(['get', 'cronjob', name, '-n', NS, '-o', 'json']));
  return JSON.parse(r.stdout) as CronJob;
}

/** Every object of a schedule, as kubectl names them. */
async function scheduleObjects(name: string): Promise<string[]> {
  const local = await ok(
    kubectl([
      'get',
      'serviceaccounts,roles,rolebindings,cronjobs',
      '-n',
      NS,
      '-l',
      `${LABEL}=${name}`,
      '-o',
      'name',
    ]),
  );
  const cluster = await ok(
    kubectl(['get', 'clusterroles,clusterrolebindings', '-l', `${LABEL}=${name}`, '-o', 'name']),
  );
  return `${local.stdout}${cluster.stdout}`.split('\n').filter(Boolean).sort();
}

async function auditEntries(): Promise<
  Array<{
    action: string;
    target?: string;
    outcome: string;
    namespace?: string;
    details?: Record<string, unknown>;
  }>
> {
  return json(await ok(kb(['audit', '-o', 'json'])));
}

beforeAll(async () => {
  sim = await startTestSim();
  sb = await sandbox();
  repo = path.join(sb.dir, 'repo');
  Object.assign(sb.env, { KUBECTL_BACKUP_REPOSITORY: repo, KUBECTL_BACKUP_PASSWORD: PASSWORD });
  await ok(sb.run(['repo', 'init']));
  await ok(kubectl(['create', 'namespace', NS]));
  await ok(kubectl(['create', 'configmap', 'settings', '-n', NS, '--from-literal=color=blue']));
  await ok(
    kubectl([
      'create',
      'secret',
      'generic',
      'kb-password',
      '-n',
      NS,
      `--from-literal=password=${PASSWORD}`,
    ]),
  );
}, 120_000);

afterAll(async () => {
  await sim?.dispose();
  await sb?.cleanup();
});

describe('kubectl backup schedule', () => {
  it('--dry-run -o yaml prints the six objects and changes nothing', async () => {
    const before = await auditEntries();
    const r = await ok(createSchedule('nightly', ['--keep-daily', '7', '--dry-run', '-o', 'yaml']));
    const docs = parseAllDocuments(r.stdout).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string; labels: Record<string, string> } },
    );
    expect(docs.map((d) => d.kind)).toEqual([
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'CronJob',
    ]);
    for (const d of docs)
      expect(d.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'kubectl-backup',
        [LABEL]: 'nightly',
      });
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stderr).toBe('');

    const server = await ok(createSchedule('nightly', ['--dry-run=server']));
    expect(server.stdout.split('\n')).toContain('cronjob.batch/nightly created (server dry run)');

    expect(await scheduleObjects('nightly')).toEqual([]);
    expect(await auditEntries()).toEqual(before);
  });

  it('creates the CronJob, its ServiceAccount and RBAC, and audits it', async () => {
    const r = await ok(
      createSchedule('nightly', [
        '--keep-last',
        '1',
        '--prune',
        '--tag',
        'env=prod',
        '--volumes',
        'none',
      ]),
    );
    expect(r.stdout).toBe(
      [
        'serviceaccount/kubectl-backup-nightly created',
        'role.rbac.authorization.k8s.io/kubectl-backup-nightly created',
        'rolebinding.rbac.authorization.k8s.io/kubectl-backup-nightly created',
        'clusterrole.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly created',
        'clusterrolebinding.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly created',
        'cronjob.batch/nightly created',
        'schedule nightly in namespace shop: "0 2 * * *"; see "kubectl backup schedule list -n shop"',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
    const cj = await cronJob('nightly');
    expect(cj.spec).toMatchObject({
      schedule: '0 2 * * *',
      suspend: false,
      concurrencyPolicy: 'Forbid',
    });
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe('kubectl-backup-nightly');
    const [backup] = pod.initContainers ?? [];
    const [forget] = pod.containers;
    expect(backup?.image).toBe('ghcr.io/kubectl-backup/kubectl-backup:0.1.0');
    expect(backup?.command).toEqual(['kubectl-backup']);
    expect(backup?.args).toEqual([
      'create',
      '-n',
      NS,
      '--volumes',
      'none',
      '--tag',
      'env=prod',
      '--tag',
      'schedule=nightly',
    ]);
    expect(forget?.args).toEqual([
      'forget',
      '-n',
      NS,
      '--tag',
      'schedule=nightly',
      '--keep-last',
      '1',
      '--prune',
    ]);
    for (const c of [backup!, forget!]) {
      expect(c.env).toEqual([
        { name: 'KUBECTL_BACKUP_REPOSITORY', value: repo },
        {
          name: 'KUBECTL_BACKUP_PASSWORD',
          valueFrom: { secretKeyRef: { name: 'kb-password', key: 'password' } },
        },
      ]);
    }
    expect(JSON.stringify(cj)).not.toContain(PASSWORD);
    expect(await scheduleObjects('nightly')).toHaveLength(6);

    const entry = (await auditEntries()).at(-1);
    expect(entry).toMatchObject({
      action: 'schedule.create',
      target: 'nightly',
      outcome: 'success',
      namespace: NS,
    });
    expect(entry?.details).toMatchObject({
      schedule: '0 2 * * *',
      action: 'created',
      passwordSecret: 'kb-password',
      retention: { keepLast: 1 },
    });
  });

  it('lists schedules as a table, JSON and names', async () => {
    await ok(
      kubectl([
        'patch',
        'cronjob',
        'nightly',
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"lastScheduleTime":"2026-11-20T02:00:00Z","lastSuccessfulTime":"2026-11-20T02:03:10Z"}}',
      ]),
    );
    const table = await ok(kb(['schedule', 'list', '-n', NS]));
    const [header, row, ...rest] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(
      /^NAME +SCHEDULE +SUSPEND +LAST SCHEDULE +LAST SUCCESS +RETENTION +IMAGE$/,
    );
    expect(row).toMatch(
      /^nightly +0 2 \* \* \* +false +2026-11-20 02:00:00Z +2026-11-20 02:03:10Z +last=1 \+prune +ghcr\.io\/kubectl-backup\/kubectl-backup:0\.1\.0$/,
    );
    expect(rest).toEqual([]);

    const list = json<Array<Record<string, unknown>>>(
      await ok(kb(['schedule', 'list', '-A', '-o', 'json'])),
    );
    expect(list).toEqual([
      expect.objectContaining({
        name: 'nightly',
        namespace: NS,
        schedule: '0 2 * * *',
        suspend: false,
        lastScheduleTime: '2026-11-20T02:00:00Z',
        lastSuccessfulTime: '2026-11-20T02:03:10Z',
        image: 'ghcr.io/kubectl-backup/kubectl-backup:0.1.0',
        repository: repo,
        passwordSecret: { name: 'kb-password', key: 'password' },
        retention: { keepLast: 1 },
      }),
    ]);
    expect((await ok(kb(['schedule', 'list', '-A', '-o', 'name']))).stdout).toBe('nightly\n');
    expect((await ok(kb(['schedule', 'list', '-n', 'default']))).stdout).toBe(
      'no backup schedules in namespace default\n',
    );
  });

  it("runs the job's own commands as the schedule's ServiceAccount", async () => {
    const pod = (await cronJob('nightly')).spec.jobTemplate.spec.template.spec;
    const token = (
      await ok(kubectl(['create', 'token', pod.serviceAccountName, '-n', NS]))
    ).stdout.trim();
    const kubeconfig = path.join(sb.dir, 'sa-kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: sim, cluster: {server: "${sim.url}", certificate-authority: "${sim.caPath}"}}]`,
        `users: [{name: sa, user: {token: "${token}"}}]`,
        `contexts: [{name: sa, context: {cluster: sim, user: sa, namespace: ${NS}}}]`,
        'current-context: sa',
        '',
      ].join('\n'),
    );
    // the container's environment: the repository as given, the password from its Secret
    const envOf = async (c: Container) => {
      const env: Record<string, string> = {};
      for (const e of c.env) {
        if (e.value !== undefined) env[e.name] = e.value;
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const data = await ok(
            kubectl(['get', 'secret', ref.name, '-n', NS, '-o', `jsonpath={.data.${ref.key}}`]),
          );
          env[e.name] = Buffer.from(data.stdout, 'base64').toString('utf8');
        }
      }
      return env;
    };
    const asJob = async (c: Container) =>
      sb.run(c.args, {
        KUBECONFIG: kubeconfig,
        KUBECTL_BACKUP_REPOSITORY: undefined,
        KUBECTL_BACKUP_PASSWORD: undefined,
        ...(await envOf(c)),
      });
    for (let i = 0; i < 2; i++) {
      const backup = await asJob(pod.initContainers![0]!);
      expect(backup.code, backup.stderr).toBe(0);
      expect(backup.stdout).toMatch(/^backup shop-\S+ of namespace shop saved as snapshot/);
      expect(backup.stderr).toBe('');
      await new Promise((resolve) => setTimeout(resolve, 1100)); // backup names have a one-second clock
    }
    const forget = await asJob(pod.containers[0]!);
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toMatch(/kept 1, removed 1 backup\(s\)/);
    expect(forget.stdout).toMatch(/\nfreed \S+ /);
    const backups = json<Array<{ namespace: string; tags: string[]; actor: string }>>(
      await ok(kb(['list', '-n', NS, '-o', 'json'])),
    );
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({
      namespace: NS,
      tags: ['env=prod', 'schedule=nightly'],
      actor: 'system:serviceaccount:shop:kubectl-backup-nightly',
    });
    const audit = (await auditEntries()).filter((e) => !e.action.startsWith('schedule.'));
    expect(audit.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'repo.init success',
      'backup.create success',
      'backup.create success',
      'backup.forget success',
      'repo.prune success',
    ]);
  });

  it('create again updates the schedule', async () => {
    const r = await ok(
      kb([
        'schedule',
        'create',
        'nightly',
        '-n',
        NS,
        '--schedule',
        '30 3 * * 1-5',
        '--time-zone',
        'Europe/Berlin',
        '--password-secret',
        'kb-password:password',
        '--allow-local-repo',
        '--suspend',
      ]),
    );
    expect(r.stdout).toContain('cronjob.batch/nightly updated\n');
    expect(r.stdout).toContain(
      'schedule nightly in namespace shop: "30 3 * * 1-5" (Europe/Berlin), suspended;',
    );
    const cj = await cronJob('nightly');
    expect(cj.spec).toMatchObject({
      schedule: '30 3 * * 1-5',
      timeZone: 'Europe/Berlin',
      suspend: true,
    });
    // no retention policy any more: the backup is the only container
    expect(cj.spec.jobTemplate.spec.template.spec.initContainers ?? []).toEqual([]);
    expect(cj.spec.jobTemplate.spec.template.spec.containers.map((c) => c.name)).toEqual([
      'backup',
    ]);
    expect(await scheduleObjects('nightly')).toHaveLength(6);
    const list = json<Array<{ schedule: string; suspend: boolean; lastScheduleTime?: string }>>(
      await ok(kb(['schedule', 'list', '-o', 'json', '-n', NS])),
    );
    expect(list).toEqual([
      expect.objectContaining({
        schedule: '30 3 * * 1-5',
        suspend: true,
        lastScheduleTime: '2026-11-20T02:00:00Z',
      }),
    ]);
    expect((await auditEntries()).at(-1)).toMatchObject({
      action: 'schedule.create',
      outcome: 'success',
      details: expect.objectContaining({ action: 'updated' }),
    });
  });

  it('warns about a missing password Secret and an unreachable audit log, and still creates', async () => {
    const r = await ok(
      kb([
        'schedule',
        'create',
        'weekly',
        '-n',
        NS,
        '--schedule',
        '@weekly',
        '--password-secret',
        'nope',
        '--allow-local-repo',
        '--repo',
        path.join(sb.dir, 'no-such-repo'),
      ]),
    );
    expect(r.stdout).toContain('cronjob.batch/weekly created\n');
    expect(r.stderr).toContain(
      'warning: the password Secret "nope" does not exist in namespace shop',
    );
    expect(r.stderr).toContain(
      "kubectl create secret generic nope -n shop --from-literal=password='…'",
    );
    expect(r.stderr).toMatch(
      /warning: the cluster was changed, but the schedule\.create entry could not be appended to the repository's audit log: no repository at .*no-such-repo/,
    );
    expect(await scheduleObjects('weekly')).toHaveLength(6);
    await ok(kb(['schedule', 'delete', 'weekly', '-n', NS]));
  });

  it('deletes every object of the schedule', async () => {
    const r = await ok(kb(['schedule', 'delete', 'nightly', '-n', NS]));
    expect(r.stdout.split('\n')).toEqual([
      'cronjob.batch/nightly deleted',
      'clusterrolebinding.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly deleted',
      'clusterrole.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly deleted',
      'rolebinding.rbac.authorization.k8s.io/kubectl-backup-nightly deleted',
      'role.rbac.authorization.k8s.io/kubectl-backup-nightly deleted',
      'serviceaccount/kubectl-backup-nightly deleted',
      '',
    ]);
    expect(await scheduleObjects('nightly')).toEqual([]);
    expect((await kubectl(['get', 'cronjob', 'nightly', '-n', NS])).code).not.toBe(0);
    expect(
      (await ok(kubectl(['get', 'secret', 'kb-password', '-n', NS, '-o', 'name']))).stdout,
    ).toBe('secret/kb-password\n');
    expect((await auditEntries()).at(-1)).toMatchObject({
      action: 'schedule.delete',
      target: 'nightly',
      outcome: 'success',
      namespace: NS,
    });

    const again = await kb(['schedule', 'delete', 'nightly', '-n', NS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      'error: no schedule "nightly" in namespace "shop" (see `kubectl backup schedule list -n shop`)\n',
    );
  });

  it('gives the namespace-limited dev user a clear Forbidden error and changes nothing', async () => {
    const r = await kb([
      'schedule',
      'create',
      'mine',
      '--context',
      'dev',
      '--schedule',
      '@daily',
      '--password-secret',
      'kb-password',
      '--allow-local-repo',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: forbidden: applying schedule "mine" refused before changing anything; missing permission\(s\): .*clusterroles\.rbac\.authorization\.k8s\.io \(cluster-wide\)/,
    );
    expect(r.stderr).toContain('kubectl auth can-i get clusterroles.rbac.authorization.k8s.io');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
    const sa = await ok(kubectl(['get', 'serviceaccounts,cronjobs', '-n', 'team-a', '-o', 'name']));
    expect(sa.stdout).not.toContain('mine');
    expect((await auditEntries()).at(-1)).toMatchObject({
      action: 'schedule.create',
      target: 'mine',
      outcome: 'denied',
      namespace: 'team-a',
    });
  });

  it('refuses bad input with a one-line error', async () => {
    const cron = await createSchedule('bad', ['--schedule', '0 2 * *']);
    expect(cron.code).toBe(2);
    expect(cron.stderr).toMatch(
      /^error: invalid cron schedule "0 2 \* \*": it has 4 field\(s\), not 5 /,
    );
    expect(cron.stderr.trimEnd().split('\n')).toHaveLength(1);

    const local = await kb([
      'schedule',
      'create',
      'bad',
      '-n',
      NS,
      '--schedule',
      '@daily',
      '--password-secret',
      'kb-password',
    ]);
    expect(local.code).toBe(2);
    expect(local.stderr).toContain(
      `error: the repository ${repo} is a directory on this machine: the scheduled backup runs in a pod in the cluster, which cannot reach it`,
    );

    const name = await createSchedule('Bad_Name');
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/^error: invalid schedule name "Bad_Name"/);
    expect(await scheduleObjects('bad')).toEqual([]);
  });
});
