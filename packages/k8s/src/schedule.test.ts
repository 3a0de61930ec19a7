/**
 * Scheduled backups against kube-sim: the manifests pass the real kubectl's server-side dry
 * run and apply, never carry the password, and give the CronJob's ServiceAccount exactly what
 * a backup of its namespace needs; applySchedule / listSchedules / deleteSchedule.
 */
import { CoreV1Api, KubeConfig, StorageV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { backupNamespace } from './backup.js';
import { KubeClient } from './client.js';
import { canI } from './context.js';
import { K8sError } from './errors.js';
import { HOOK_ANNOTATIONS } from './hooks.js';
import {
  DEFAULT_SCHEDULE_IMAGE,
  applySchedule,
  deleteSchedule,
  listSchedules,
  scheduleManifests,
  validateCron,
  type ScheduleSpec,
} from './schedule.js';
import { memoryRepo, startHarness, waitFor, type Harness } from './test-support/sim.js';
import { createPvc, sh, startPod } from './test-support/volumes.js';

const NS = 'shop';
const PASSWORD = 'pw-9f3a1c-never-in-a-manifest';

const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  name: 'nightly',
  namespace: NS,
  schedule: '0 2 * * *',
  repository: 's3://backups/prod?endpoint=http://minio.minio.svc:9000',
  passwordSecret: { name: 'kb-password' },
  credentialsSecret: 'kb-s3',
  backup: {
    volumes: 'auto',
    excludeResources: ['events'],
    labelSelector: 'tier!=cache',
    tags: ['env=prod'],
  },
  retention: { keepDaily: 7, keepWeekly: 4 },
  ...over,
});

function toYaml(objects: unknown[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

interface CronJobJson {
  metadata: { labels: Record<string, string> };
  spec: {
    schedule: string;
    concurrencyPolicy: string;
    suspend: boolean;
    jobTemplate: {
      spec: {
        template: {
          spec: {
            serviceAccountName: string;
            initContainers?: Array<{ name: string; image: string; args: string[]; env: unknown[] }>;
            containers: Array<{
              name: string;
              image: string;
              args: string[];
              env: unknown[];
              envFrom?: unknown[];
            }>;
          };
        };
      };
    };
  };
}

describe('scheduled backups', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    const run = async (args: string[], input?: string) => {
      const r = await h.kubectl(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    };
    await run(['create', 'namespace', NS]);
    await run([
      'create',
      'secret',
      'generic',
      'kb-password',
      '-n',
      NS,
      `--from-literal=password=${PASSWORD}`,
    ]);
    await run(['create', 'configmap', 'settings', '-n', NS, '--from-literal=color=blue']);
    await run(['create', 'rolebinding', 'readers', '-n', NS, '--clusterrole=view', '--user=alice']);
    const kc = h.kubeConfig();
    await kc.makeApiClient(StorageV1Api).createStorageClass({
      body: {
        metadata: { name: 'nfs' },
        provisioner: 'nfs.example.com',
        volumeBindingMode: 'Immediate',
      },
    });
    const core = kc.makeApiClient(CoreV1Api);
    await createPvc(core, NS, 'db-data');
    await createPvc(core, NS, 'uploads', { storageClassName: 'nfs' });
    await startPod(core, NS, 'db', {
      claims: ['db-data', 'uploads'],
      annotations: { [HOOK_ANNOTATIONS.pre]: 'echo frozen > /data/state' },
    });
    expect(
      (await sh(kc, NS, 'db', 'echo hello > /data/hello.txt && echo up > /data-uploads/up.txt'))
        .exitCode,
    ).toBe(0);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('builds six labelled objects that never hold the password', () => {
    const objects = scheduleManifests(spec());
    expect(objects.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'Role',
      'RoleBinding',
      'ClusterRole',
      'ClusterRoleBinding',
      'CronJob',
    ]);
    for (const o of objects) {
      expect(o.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'kubectl-backup',
        'backup.kubectl.io/schedule': 'nightly',
      });
    }
    expect(objects.filter((o) => !o.metadata.namespace).map((o) => o.metadata.name)).toEqual([
      'kubectl-backup:schedule:shop:nightly',
      'kubectl-backup:schedule:shop:nightly',
    ]);
    const text = JSON.stringify(objects);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toMatch(/"password":/);
    const cj = objects[5] as unknown as CronJobJson;
    expect(cj.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.initContainers?.[0]?.image).toBe(DEFAULT_SCHEDULE_IMAGE);
    expect(pod.initContainers?.[0]?.args).toEqual([
      'create',
      '-n',
      'shop',
      '--volumes',
      'auto',
      '--exclude-resources',
      'events',
      '-l',
      'tier!=cache',
      '--tag',
      'env=prod',
      '--tag',
      'schedule=nightly',
    ]);
    expect(pod.containers.map((c) => [c.name, c.args])).toEqual([
      ['forget', ['forget', '-n', 'shop', '--tag', 'schedule=nightly', '--keep-daily', '7', '--keep-weekly', '4']],
    ]);
    // without a policy the backup is the only container
    const plain = scheduleManifests(
      spec({ retention: undefined, credentialsSecret: undefined }),
    )[5] as unknown as CronJobJson;
    expect(plain.spec.jobTemplate.spec.template.spec.initContainers).toBeUndefined();
    expect(
      plain.spec.jobTemplate.spec.template.spec.containers.map((c) => [
        c.name,
        c.args[0],
        c.envFrom,
      ]),
    ).toEqual([['backup', 'create', undefined]]);
  });

  it('refuses bad settings with EUSAGE', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return err instanceof K8sError ? `${err.code}: ${err.message}` : String(err);
      }
      return 'no error';
    };
    for (const bad of [
      '0 2 * *',
      '61 * * * *',
      '* 24 * * *',
      '*/0 * * * *',
      '5-1 * * * *',
      '@every 1h',
      'TZ=UTC 0 2 * * *',
      'x y z a b',
      '',
    ]) {
      expect(
        code(() => scheduleManifests(spec({ schedule: bad }))),
        bad,
      ).toMatch(/^EUSAGE: invalid cron schedule/);
    }
    for (const good of [
      '0 2 * * *',
      '*/15 * * * 1-5',
      '0 0 1,15 * ?',
      '30 4 * jan-mar sun',
      '@daily',
      '@hourly',
      '0 3 * * 7',
    ])
      expect(validateCron(good)).toBe(good);
    expect(code(() => scheduleManifests(spec({ name: 'Nightly' })))).toMatch(
      /^EUSAGE: invalid schedule name "Nightly"/,
    );
    expect(code(() => scheduleManifests(spec({ name: 'x'.repeat(53) })))).toMatch(
      /^EUSAGE: invalid schedule name/,
    );
    expect(code(() => scheduleManifests(spec({ timeZone: 'Mars/Olympus' })))).toMatch(
      /^EUSAGE: unknown time zone/,
    );
    expect(code(() => scheduleManifests(spec({ repository: 's3://key:secret@bucket/x' })))).toMatch(
      /^EUSAGE: credentials in the repository URL/,
    );
    expect(code(() => scheduleManifests(spec({ retention: { keepDaily: 1.5 } })))).toMatch(
      /^EUSAGE: --keep-daily must be a whole number/,
    );
    expect(code(() => scheduleManifests(spec({ retention: { keepWithin: '7 parsecs' } })))).toMatch(
      /^EUSAGE: --keep-within/,
    );
    expect(code(() => scheduleManifests(spec({ retention: undefined, prune: true })))).toMatch(
      /^EUSAGE: pruning needs a retention policy/,
    );
    expect(
      code(() => scheduleManifests(spec({ passwordSecret: { name: 'kb', key: 'bad key' } }))),
    ).toMatch(/^EUSAGE: invalid Secret key/);
  });

  it('passes the real kubectl server-side dry run, then applies for real', async () => {
    const yaml = toYaml(scheduleManifests(spec({ schedule: '15 1 * * *' })));
    const dry = await h.kubectl(['apply', '--dry-run=server', '-f', '-'], yaml);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout.trim().split('\n')).toEqual([
      'serviceaccount/kubectl-backup-nightly created (server dry run)',
      'role.rbac.authorization.k8s.io/kubectl-backup-nightly created (server dry run)',
      'rolebinding.rbac.authorization.k8s.io/kubectl-backup-nightly created (server dry run)',
      'clusterrole.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly created (server dry run)',
      'clusterrolebinding.rbac.authorization.k8s.io/kubectl-backup:schedule:shop:nightly created (server dry run)',
      'cronjob.batch/nightly created (server dry run)',
    ]);
    expect((await h.kubectl(['get', 'cronjob', 'nightly', '-n', NS])).code).not.toBe(0);

    const real = await h.kubectl(['apply', '-f', '-'], yaml);
    expect(real.code, real.stderr).toBe(0);
    const got = await h.kubectl(['get', 'cronjob', 'nightly', '-n', NS, '-o', 'json']);
    expect(got.code, got.stderr).toBe(0);
    const cj = JSON.parse(got.stdout) as CronJobJson;
    expect(cj.spec).toMatchObject({
      schedule: '15 1 * * *',
      concurrencyPolicy: 'Forbid',
      suspend: false,
    });
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.serviceAccountName).toBe('kubectl-backup-nightly');
    expect(pod.initContainers?.[0]?.env).toContainEqual({
      name: 'KUBECTL_BACKUP_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'kb-password', key: 'password' } },
    });
    expect(pod.containers[0]?.envFrom).toEqual([{ secretRef: { name: 'kb-s3' } }]);
    const all = await h.kubectl([
      'get',
      'cronjobs,serviceaccounts,roles,rolebindings',
      '-n',
      NS,
      '-l',
      'backup.kubectl.io/schedule=nightly',
      '-o',
      'json',
    ]);
    const cluster = await h.kubectl([
      'get',
      'clusterroles,clusterrolebindings',
      '-l',
      'backup.kubectl.io/schedule-namespace=shop',
      '-o',
      'json',
    ]);
    expect((JSON.parse(all.stdout) as { items: unknown[] }).items).toHaveLength(4);
    expect((JSON.parse(cluster.stdout) as { items: unknown[] }).items).toHaveLength(2);
    expect(all.stdout + cluster.stdout).not.toContain(PASSWORD);
  });

  it("gives the schedule's ServiceAccount what a backup of its namespace needs, and no more", async () => {
    const token = await h.kubectl(['create', 'token', 'kubectl-backup-nightly', '-n', NS]);
    expect(token.code, token.stderr).toBe(0);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'sim', server: h.sim.url, caFile: h.sim.caPath }],
      users: [{ name: 'sa', token: token.stdout.trim() }],
      contexts: [{ name: 'sa', cluster: 'sim', user: 'sa', namespace: NS }],
      currentContext: 'sa',
    });
    const sa = new KubeClient(kc, { qps: 0 });
    try {
      const result = await backupNamespace(await memoryRepo(), sa, {
        namespace: NS,
        volumes: 'auto',
      });
      expect(result.warnings).toEqual([]);
      expect(result.manifest.volumes.map((v) => [v.pvc, v.method, v.error])).toEqual([
        ['db-data', 'snapshot', undefined],
        ['uploads', 'fs', undefined],
      ]);
      expect(result.manifest.hooks.map((r) => [r.pod, r.phase, r.ok])).toEqual([
        ['db', 'pre', true],
      ]);
      const deps = result.manifest.dependencies.map((d) => `${d.kind}/${d.name}`);
      expect(deps).toEqual(
        expect.arrayContaining([
          'Namespace/shop',
          'StorageClass/standard',
          'StorageClass/nfs',
          'ClusterRole/view',
        ]),
      );
      expect(deps.filter((d) => d.startsWith('PersistentVolume/'))).toHaveLength(2);
      expect(result.manifest.resources.byKind).toMatchObject({
        ConfigMap: 1,
        Secret: 1,
        RoleBinding: 2,
      });
      // mover pods, clones and snapshots are gone again
      await waitFor(
        'mover pods gone',
        async () =>
          !(await h.kubectl(['get', 'pods', '-n', NS, '-o', 'name'])).stdout.includes('mover'),
      );
      // nothing outside its namespace, nothing it does not need
      const may = (verb: string, resource: string, namespace?: string, group = '') =>
        canI(sa, { verb, group, resource, namespace });
      expect(await may('list', 'configmaps', 'default')).toBe(false);
      expect(await may('get', 'namespaces', undefined)).toBe(false);
      expect(await may('create', 'secrets', NS)).toBe(false);
      expect(await may('delete', 'deployments', NS, 'apps')).toBe(false);
      expect(await may('list', 'secrets', NS)).toBe(true);
    } finally {
      sa.close();
    }
  });

  it('applies, updates, lists and deletes a schedule through the library', async () => {
    const admin = h.client();
    const manifests = scheduleManifests(
      spec({ name: 'hourly', schedule: '@hourly', credentialsSecret: undefined }),
    );
    const dry = await applySchedule(admin, manifests, { dryRun: true });
    expect(dry.objects.map((o) => o.action)).toEqual(Array(6).fill('created'));
    expect((await h.kubectl(['get', 'cronjob', 'hourly', '-n', NS])).code).not.toBe(0);

    const created = await applySchedule(admin, manifests);
    expect(created.objects.map((o) => `${o.kind}/${o.name} ${o.action}`)).toContain(
      'CronJob/hourly created',
    );
    const updated = await applySchedule(
      admin,
      scheduleManifests(
        spec({
          name: 'hourly',
          schedule: '5 * * * *',
          retention: undefined,
          credentialsSecret: undefined,
          suspend: true,
        }),
      ),
    );
    expect(updated.objects.map((o) => o.action)).toEqual(Array(6).fill('updated'));
    const cj = JSON.parse(
      (await h.kubectl(['get', 'cronjob', 'hourly', '-n', NS, '-o', 'json'])).stdout,
    ) as CronJobJson;
    expect(cj.spec.schedule).toBe('5 * * * *');
    expect(cj.spec.suspend).toBe(true);
    // the retention container left with the policy
    expect(cj.spec.jobTemplate.spec.template.spec.initContainers ?? []).toEqual([]);
    expect(cj.spec.jobTemplate.spec.template.spec.containers.map((c) => c.name)).toEqual([
      'backup',
    ]);

    const list = await listSchedules(admin, NS);
    expect(list.map((s) => [s.name, s.schedule, s.suspend])).toEqual([
      ['hourly', '5 * * * *', true],
      ['nightly', '15 1 * * *', false],
    ]);
    expect(list[1]).toMatchObject({
      image: DEFAULT_SCHEDULE_IMAGE,
      repository: 's3://backups/prod?endpoint=http://minio.minio.svc:9000',
      passwordSecret: { name: 'kb-password', key: 'password' },
      credentialsSecret: 'kb-s3',
      retention: { keepDaily: 7, keepWeekly: 4 },
      prune: false,
    });
    expect((await listSchedules(admin, undefined)).map((s) => `${s.namespace}/${s.name}`)).toEqual([
      'shop/hourly',
      'shop/nightly',
    ]);

    const deleted = await deleteSchedule(admin, NS, 'hourly');
    expect(deleted.map((r) => r.kind)).toEqual([
      'CronJob',
      'ClusterRoleBinding',
      'ClusterRole',
      'RoleBinding',
      'Role',
      'ServiceAccount',
    ]);
    expect(
      (
        await h.kubectl([
          'get',
          'serviceaccount,role,rolebinding,cronjob',
          '-n',
          NS,
          '-l',
          'backup.kubectl.io/schedule=hourly',
          '-o',
          'name',
        ])
      ).stdout,
    ).toBe('');
    expect(
      (await h.kubectl(['get', 'clusterrole,clusterrolebinding', '-o', 'name'])).stdout,
    ).not.toContain('hourly');
    await expect(deleteSchedule(admin, NS, 'hourly')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it("refuses to take over objects that are not the schedule's, and a user without the rights", async () => {
    const admin = h.client();
    expect(
      (
        await h.kubectl([
          'create',
          'cronjob',
          'report',
          '-n',
          NS,
          '--image=busybox',
          '--schedule=0 1 * * *',
          '--',
          'true',
        ])
      ).code,
    ).toBe(0);
    await expect(
      applySchedule(admin, scheduleManifests(spec({ name: 'report' }))),
    ).rejects.toMatchObject({ code: 'EALREADYEXISTS' });
    expect(
      (await h.kubectl(['get', 'serviceaccount', 'kubectl-backup-report', '-n', NS])).code,
    ).not.toBe(0);
    await expect(deleteSchedule(admin, NS, 'report')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect((await h.kubectl(['get', 'cronjob', 'report', '-n', NS])).code).toBe(0);

    const dev = h.client('dev');
    const err = await applySchedule(
      dev,
      scheduleManifests(spec({ name: 'mine', namespace: 'team-a' })),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EFORBIDDEN' });
    expect((err as K8sError).message).toContain('kubectl auth can-i');
    expect(
      (await h.kubectl(['get', 'serviceaccounts', '-n', 'team-a', '-o', 'name'])).stdout,
    ).not.toContain('kubectl-backup-mine');
  });
});
