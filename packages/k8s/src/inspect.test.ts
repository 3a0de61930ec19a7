import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { describeBackup } from './describe.js';
import { diffBackups, diffBackupWithCluster } from './diff.js';
import { setIntegrationModules } from './integration.js';
import { KIND_VERIFY_RECORD, VERIFY_DOC } from './layout.js';
import { listBackups } from './list.js';
import { findBackup, readLog, writeRecord } from './records.js';
import { restoreNamespace } from './restore/apply.js';
import { applyFixture, memoryRepo, startHarness, type Harness } from './test-support/sim.js';

const OPS = `
apiVersion: v1
kind: ConfigMap
metadata: { name: policy }
data: { policy.yaml: "strategies: {}" }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: cleaner }
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{ name: c, image: "busybox:1.36", command: ["true"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: cleaner }
rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "delete"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: cleaner }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: cleaner }
subjects: [{ kind: ServiceAccount, name: default, namespace: ops }]
`;

const CM = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };

describe('list, describe, diff, logs', () => {
  let h: Harness;
  let repo: Awaited<ReturnType<typeof memoryRepo>>;
  beforeAll(async () => {
    setIntegrationModules({ volumes: null, hooks: null });
    h = await startHarness();
    repo = await memoryRepo();
    await applyFixture(h, 'guestbook', 'web');
    await h.kubectl(['create', 'namespace', 'ops']);
    const ops = await h.kubectl(['apply', '-n', 'ops', '-f', '-'], OPS);
    if (ops.code !== 0) throw new Error(ops.stderr);
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'web', name: 'web-1', volumes: 'none', tags: ['team=shop'] });
    await h.client().create(CM, 'web', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' }, data: { a: '1' } });
    await h.kubectl(['scale', '-n', 'web', 'deployment/frontend', '--replicas=1']);
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'web', name: 'web-2', volumes: 'none' });
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'ops', name: 'ops-1', volumes: 'none' });
  });
  afterAll(async () => {
    setIntegrationModules({});
    await h?.dispose();
  });

  it('lists backups of a namespace or of all, with sizes, counts and verification', async () => {
    await writeRecord(repo, {
      kind: KIND_VERIFY_RECORD,
      name: 'web-1-verify',
      namespace: 'web',
      source: 'web-1',
      sourceSnapshot: (await findBackup(repo, 'web-1')).snapshot.id,
      documentName: VERIFY_DOC,
      document: { result: 'passed' },
      log: '',
      extraTags: ['result=passed'],
    });
    const all = await listBackups(repo);
    expect(all.map((b) => [b.name, b.namespace])).toEqual([
      ['web-1', 'web'],
      ['web-2', 'web'],
      ['ops-1', 'ops'],
    ]);
    const web = await listBackups(repo, { namespace: 'web' });
    expect(web.map((b) => b.name)).toEqual(['web-1', 'web-2']);
    const [w1, w2] = web;
    expect(w1!.resources).toBeGreaterThan(5);
    expect(w2!.resources).toBe(w1!.resources + 1);
    expect(w1!.sizeTotal).toBeGreaterThan(0);
    expect(w2!.sizeAdded).toBeLessThan(w1!.sizeAdded);
    expect(w1!.tags).toEqual(['team=shop']);
    expect(w1!.actor).toBe('admin');
    expect(w1!.verified).toMatchObject({ result: 'passed', record: 'web-1-verify' });
    expect(w2!.verified).toBeUndefined();
  });

  it('describes a backup: resources by kind, dependencies, images, stats, who/when/where, restores', async () => {
    const d = await describeBackup(repo, 'ops-1');
    expect(d.where.namespace).toBe('ops');
    expect(d.who.actor).toBe('admin');
    const kinds = Object.fromEntries(d.resources.map((k) => [k.kind, k.count]));
    expect(kinds).toMatchObject({ ConfigMap: 1, CronJob: 1, Role: 1, RoleBinding: 1 });
    expect(d.dependencies.map((x) => x.kind)).toContain('Namespace');
    expect(d.stats.bytesTotal).toBeGreaterThan(0);
    expect(d.restores).toEqual([]);
    const byId = await describeBackup(repo, d.summary.snapshot.slice(0, 10));
    expect(byId.summary.name).toBe('ops-1');

    const w = await describeBackup(repo, 'web-1');
    expect(w.images.find((i) => i.owner === 'Deployment/redis-master')).toMatchObject({ container: 'master', image: 'registry.k8s.io/redis:e2e' });
    await restoreNamespace(repo, h.kubeConfig(), { backup: 'web-1', targetNamespace: 'web-copy', wait: false });
    expect((await describeBackup(repo, 'web-1')).restores.map((r) => [r.targetNamespace, r.outcome])).toEqual([['web-copy', 'success']]);
    await expect(describeBackup(repo, 'nope')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('diffs two backups per object, and a backup against the live namespace', async () => {
    const d = await diffBackups(repo, 'web-1', 'web-2');
    expect(d.summary.added).toBe(1);
    expect(d.objects.find((o) => o.change === 'added')).toMatchObject({ kind: 'ConfigMap', name: 'extra' });
    const frontend = d.objects.find((o) => o.kind === 'Deployment' && o.name === 'frontend')!;
    expect(frontend.change).toBe('changed');
    expect(frontend.fields).toContainEqual({ path: 'spec.replicas', from: 3, to: 1 });
    expect(d.objects.find((o) => o.kind === 'Service' && o.name === 'frontend')?.change).toBe('unchanged');

    const live = await diffBackupWithCluster(repo, h.kubeConfig(), 'web-1');
    expect(live.objects.find((o) => o.name === 'extra')?.change).toBe('added');
    expect(live.objects.find((o) => o.kind === 'Deployment' && o.name === 'frontend')?.fields).toContainEqual({ path: 'spec.replicas', from: 3, to: 1 });
    expect(live.objects.find((o) => o.kind === 'Service' && o.name === 'redis-master')?.change).toBe('unchanged');
    expect(live.objects.some((o) => o.kind === 'Pod' || o.kind === 'ReplicaSet' || o.name === 'kube-root-ca.crt')).toBe(false);
    const same = await diffBackupWithCluster(repo, h.kubeConfig(), 'web-2');
    expect(same.summary.changed + same.summary.added + same.summary.removed).toBe(0);
  });

  it('reads the operation log of a backup', async () => {
    const log = await readLog(repo, (await findBackup(repo, 'web-1')).snapshot);
    expect(log.some((e) => e.event === 'capture.type' && e.resource === 'deployments')).toBe(true);
    expect(log.some((e) => e.event === 'start')).toBe(true);
  });
});
