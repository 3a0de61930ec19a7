import { listSnapshots, readAuditLog, readItem } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from '../backup.js';
import type { ResourceLocation } from '../client.js';
import { setIntegrationModules } from '../integration.js';
import { KIND_RESTORE_RECORD, RESTORE_DOC, tag } from '../layout.js';
import type { RestoreRecord } from '../manifest.js';
import { readBackupObjects } from '../records.js';
import { applyFixture, deleteNamespaceAndWait, memoryRepo, startHarness, waitFor, waitWorkloadsReady, type Harness } from '../test-support/sim.js';
import type { KubeObject } from '../types.js';
import { subsetDiff } from './diff-fields.js';
import { restoreNamespace } from './apply.js';
import { planRestore } from './plan.js';
import { sanitizeObject } from './sanitize.js';

const CM: ResourceLocation = { group: '', version: 'v1', resource: 'configmaps', namespaced: true };
const SVC: ResourceLocation = { group: '', version: 'v1', resource: 'services', namespaced: true };
const RB: ResourceLocation = { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', namespaced: true };
const PODS: ResourceLocation = { group: '', version: 'v1', resource: 'pods', namespaced: true };
const RS: ResourceLocation = { group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true };

const APP = (ns: string) => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: app-sa, namespace: ${ns} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${ns}, labels: { tier: config } }
data: { mode: "blue", level: "3" }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: ${ns} }
stringData: { password: s3cret }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: reader, namespace: ${ns} }
rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: reader-binding, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader }
subjects: [{ kind: ServiceAccount, name: app-sa, namespace: ${ns} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: viewers, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ kind: ServiceAccount, name: app-sa, namespace: ${ns} }]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: data, namespace: ${ns} }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec: { type: NodePort, selector: { app: web }, ports: [{ port: 80, targetPort: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: app-sa
      containers: [{ name: web, image: "nginx:1.27", volumeMounts: [{ name: data, mountPath: /data }] }]
      volumes: [{ name: data, persistentVolumeClaim: { claimName: data } }]
`;

async function readRecord(h: { repo: Awaited<ReturnType<typeof memoryRepo>> }, id: string): Promise<RestoreRecord> {
  return JSON.parse((await readItem(h.repo, id, RESTORE_DOC)).toString()) as RestoreRecord;
}

describe('restoreNamespace', () => {
  let h: Harness;
  let repo: Awaited<ReturnType<typeof memoryRepo>>;
  beforeAll(async () => {
    setIntegrationModules({ volumes: null, hooks: null });
    h = await startHarness();
    repo = await memoryRepo();
  });
  afterAll(async () => {
    setIntegrationModules({});
    await h?.dispose();
  });

  /** Every captured object exists in the target, equal after sanitising (desired ⊆ live). */
  async function expectRestored(backupName: string, snapshotId: string, targetNs: string, from: string) {
    const client = h.client();
    const objects = await readBackupObjects(repo, snapshotId);
    let compared = 0;
    for (const s of objects) {
      if (s.ref.kind === 'PersistentVolume' || s.ref.kind === 'StorageClass' || s.ref.kind === 'ClusterRole' || s.ref.kind === 'Namespace') continue;
      const loc = { group: s.ref.group, version: s.ref.version, resource: s.ref.resource, namespaced: s.ref.namespace !== undefined };
      const live = await client.get(loc, targetNs, s.ref.name);
      const desired = sanitizeObject(s.object);
      if (desired.metadata.namespace) desired.metadata.namespace = targetNs;
      for (const sub of (desired as { subjects?: Array<{ namespace?: string }> }).subjects ?? []) if (sub.namespace === from) sub.namespace = targetNs;
      if (s.ref.kind === 'ServiceAccount') delete (desired as { secrets?: unknown }).secrets;
      expect(subsetDiff(desired, sanitizeObject(live)), `${backupName}: ${s.path}`).toEqual([]);
      compared++;
    }
    return compared;
  }

  it('round-trips guestbook: delete the namespace, restore, objects equal, fresh clusterIPs, controllers own pods again', async () => {
    await applyFixture(h, 'guestbook', 'gb');
    const client = h.client();
    const before = await client.listAll(SVC, 'gb');
    const { snapshot } = await backupNamespace(repo, h.kubeConfig(), { namespace: 'gb', name: 'gb-rt', volumes: 'none' });
    await deleteNamespaceAndWait(client, 'gb');

    const result = await restoreNamespace(repo, h.kubeConfig(), { backup: 'gb-rt', waitTimeoutMs: 60_000 });
    expect(result.record?.outcome).toBe('success');
    expect(result.record?.counts.failed).toBe(0);
    expect(result.record?.readiness.map((r) => [r.name, r.ready]).sort()).toEqual([
      ['frontend', true],
      ['redis-master', true],
      ['redis-replica', true],
    ]);
    expect(await expectRestored('gb-rt', snapshot.id, 'gb', 'gb')).toBeGreaterThanOrEqual(6);

    const after = await client.listAll(SVC, 'gb');
    for (const svc of after) {
      const old = before.find((b) => b.metadata.name === svc.metadata.name)!;
      expect((svc.spec as { clusterIP: string }).clusterIP).toBeTruthy();
      expect(svc.metadata.uid).not.toBe(old.metadata.uid);
    }
    // pods and replica sets come from the controllers again, owned by them
    const pods = await client.listAll(PODS, 'gb');
    expect(pods.length).toBe(6);
    for (const p of pods) expect(p.metadata.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
    const rss = await client.listAll(RS, 'gb');
    for (const r of rss) expect(r.metadata.ownerReferences?.[0]?.kind).toBe('Deployment');
    // nothing of the skip list was restored
    expect(result.record!.items.some((i) => ['Pod', 'ReplicaSet', 'Endpoints', 'Event'].includes(i.kind))).toBe(false);
    expect(result.record!.items.some((i) => i.name === 'kube-root-ca.crt')).toBe(false);

    // the restore record and audit entry are in the repository
    const records = await listSnapshots(repo, { tags: [tag('kind', KIND_RESTORE_RECORD), tag('source', 'gb-rt')] });
    expect(records.length).toBe(1);
    const stored = await readRecord({ repo }, records[0]!.id);
    expect(stored.counts).toEqual(result.record!.counts);
    expect(stored.items.find((i) => i.kind === 'Deployment' && i.name === 'frontend')?.outcome).toBe('created');
    const audit = await readAuditLog(repo);
    expect(audit.at(-1)).toMatchObject({ action: 'restore.create', target: 'gb-rt', outcome: 'success', namespace: 'gb' });
  });

  it('restores into another namespace, mapping RoleBinding subjects, and leaves pristine/built-in objects alone', async () => {
    await h.kubectl(['create', 'namespace', 'src']);
    const applied = await h.kubectl(['apply', '-f', '-'], APP('src'));
    expect(applied.stderr).toBe('');
    await waitWorkloadsReady(h.client(), 'src');
    const { snapshot, objects } = await backupNamespace(repo, h.kubeConfig(), { namespace: 'src', name: 'src-1', volumes: 'none' });
    expect(objects.map((o) => `${o.kind}/${o.name}`)).toEqual(expect.arrayContaining(['ClusterRole/view', 'PersistentVolumeClaim/data', 'StorageClass/standard']));
    expect(objects.some((o) => o.kind === 'PersistentVolume')).toBe(true);

    const result = await restoreNamespace(repo, h.kubeConfig(), { backup: 'src-1', targetNamespace: 'copy', waitTimeoutMs: 60_000 });
    expect(result.record?.outcome).toBe('success');
    await expectRestored('src-1', snapshot.id, 'copy', 'src');
    const rb = await h.client().get(RB, 'copy', 'reader-binding');
    expect((rb as KubeObject & { subjects: Array<{ namespace: string }> }).subjects[0]!.namespace).toBe('copy');
    const byName = (kind: string, name: string) => result.record!.items.find((i) => i.kind === kind && i.name === name);
    expect(byName('ClusterRole', 'view')?.outcome).toBe('skipped');
    expect(byName('StorageClass', 'standard')?.outcome).toMatch(/skipped|unchanged/);
    // the source's volume still exists (bound to src/data): left alone, the copy's PVC gets a new one
    expect(byName('PersistentVolume', objects.find((o) => o.kind === 'PersistentVolume')!.name)).toMatchObject({ outcome: 'skipped', reason: expect.stringMatching(/cluster-scoped/) });
    expect(byName('ServiceAccount', 'default')?.outcome).toBe('skipped');
    expect(byName('Namespace', 'copy')?.outcome).toBe('created');
    // the source namespace is untouched; the copy's PVC is bound to a new volume
    const pvc = await h.client().get({ group: '', version: 'v1', resource: 'persistentvolumeclaims', namespaced: true }, 'copy', 'data');
    expect((pvc.status as { phase?: string } | undefined)?.phase).toBe('Bound');
  });

  it('dry-run plans and diffs but changes nothing; existing: skip / update / recreate', async () => {
    // `src` exists from the previous test and matches the backup src-1; change it
    const client = h.client();
    await client.apply(CM, 'src', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'src' }, data: { mode: 'green', level: '3' } });
    const cmBefore = await client.get(CM, 'src', 'settings');
    const recordsBefore = (await listSnapshots(repo)).length;

    const dry = await restoreNamespace(repo, h.kubeConfig(), { backup: 'src-1', existing: 'update', dryRun: true });
    expect(dry.dryRun).toBe(true);
    const item = dry.plan.items.find((i) => i.ref.kind === 'ConfigMap' && i.ref.name === 'settings')!;
    expect(item.action).toBe('update');
    expect(item.changes).toEqual([{ path: 'data.mode', from: 'green', to: 'blue' }]);
    expect(dry.plan.items.find((i) => i.ref.kind === 'Deployment')?.action).toBe('unchanged');
    expect((await client.get(CM, 'src', 'settings')).metadata.resourceVersion).toBe(cmBefore.metadata.resourceVersion);
    expect((await listSnapshots(repo)).length).toBe(recordsBefore);

    const skip = await restoreNamespace(repo, h.kubeConfig(), { backup: 'src-1', existing: 'skip', wait: false });
    expect(skip.record!.items.find((i) => i.name === 'settings')).toMatchObject({ outcome: 'skipped', reason: 'exists (existing: skip)' });
    expect(((await client.get(CM, 'src', 'settings')).data as Record<string, string>).mode).toBe('green');

    const update = await restoreNamespace(repo, h.kubeConfig(), { backup: 'src-1', existing: 'update', wait: false });
    expect(update.record!.items.find((i) => i.name === 'settings')?.outcome).toBe('updated');
    const updated = await client.get(CM, 'src', 'settings');
    expect((updated.data as Record<string, string>).mode).toBe('blue');
    expect(updated.metadata.uid).toBe(cmBefore.metadata.uid);

    await client.apply(CM, 'src', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'src' }, data: { mode: 'red', level: '3' } });
    const recreate = await restoreNamespace(repo, h.kubeConfig(), { backup: 'src-1', existing: 'recreate', includeResources: ['configmaps'], wait: false });
    expect(recreate.record!.items.find((i) => i.name === 'settings')?.outcome).toBe('created');
    const recreated = await client.get(CM, 'src', 'settings');
    expect((recreated.data as Record<string, string>).mode).toBe('blue');
    expect(recreated.metadata.uid).not.toBe(cmBefore.metadata.uid);
    // only ConfigMaps (and the namespace) were in that plan
    expect(new Set(recreate.plan.items.map((i) => i.ref.kind))).toEqual(new Set(['Namespace', 'ConfigMap']));
  });

  it('filters a restore by include/exclude and label selector', async () => {
    const plan = await planRestore(repo, h.kubeConfig(), { backup: 'src-1', targetNamespace: 'filtered', includeResources: ['configmaps', 'secrets'], labelSelector: 'tier=config' });
    expect(plan.items.map((i) => `${i.ref.kind}/${i.ref.name}`).sort()).toEqual(['ConfigMap/settings', 'Namespace/filtered']);
    const noRbac = await planRestore(repo, h.kubeConfig(), { backup: 'src-1', targetNamespace: 'filtered', excludeResources: ['roles', 'rolebindings.rbac.authorization.k8s.io', 'persistentvolumeclaims'] });
    const kinds = new Set(noRbac.items.map((i) => i.ref.kind));
    expect(kinds.has('Role') || kinds.has('RoleBinding') || kinds.has('PersistentVolumeClaim')).toBe(false);
    expect(kinds.has('Deployment')).toBe(true);
  });

  it("refuses the namespace-limited user's restore up front, naming the missing permissions, and applies nothing", async () => {
    const client = h.client();
    const before = await client.listAll(CM, 'team-a');
    await expect(restoreNamespace(repo, h.kubeConfig('dev'), { backup: 'src-1', targetNamespace: 'team-a', wait: false })).rejects.toSatisfy((err: unknown) => {
      const e = err as { code: string; message: string; missing: Array<{ verb: string; resource: string }> };
      expect(e.code).toBe('EFORBIDDEN');
      expect(e.missing.map((m) => `${m.verb} ${m.resource}`)).toEqual(expect.arrayContaining(['create roles', 'create rolebindings']));
      expect(e.message).toContain('kubectl auth can-i create roles.rbac.authorization.k8s.io -n team-a');
      return true;
    });
    expect((await client.listAll(CM, 'team-a')).map((c) => c.metadata.name)).toEqual(before.map((c) => c.metadata.name));
    expect((await readAuditLog(repo)).at(-1)).toMatchObject({ action: 'restore.create', outcome: 'denied', actor: 'dev' });
    // without the RBAC objects the same user may restore
    const ok = await restoreNamespace(repo, h.kubeConfig('dev'), { backup: 'src-1', targetNamespace: 'team-a', excludeResources: ['roles', 'rolebindings', 'persistentvolumeclaims'], wait: false });
    expect(ok.record!.counts.failed).toBe(0);
    expect((await client.get(CM, 'team-a', 'settings')).data).toEqual({ mode: 'blue', level: '3' });
  });

  it('restores custom resources after their CRD (created, established), also when the CRD was deleted', async () => {
    const crd = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, shortNames: [wdg] }
  versions:
    - name: v1
      served: true
      storage: true
      schema: { openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true } }
`;
    expect((await h.kubectl(['apply', '-f', '-'], crd)).code).toBe(0);
    const W: ResourceLocation = { group: 'example.com', version: 'v1', resource: 'widgets', namespaced: true };
    const CRD: ResourceLocation = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', namespaced: false };
    const client = h.client();
    await h.kubectl(['create', 'namespace', 'crs']);
    await waitFor('widgets served', async () => (await h.kubectl(['get', 'widgets', '-n', 'crs'])).code === 0);
    await client.create(W, 'crs', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 3 } });
    const { objects } = await backupNamespace(repo, h.kubeConfig(), { namespace: 'crs', name: 'crs-1', volumes: 'none' });
    expect(objects.map((o) => `${o.kind}/${o.name}`)).toEqual(expect.arrayContaining(['Widget/w1', 'CustomResourceDefinition/widgets.example.com']));

    await deleteNamespaceAndWait(client, 'crs');
    await client.delete(CRD, undefined, 'widgets.example.com');
    await waitFor('CRD gone', async () => !(await client.getOptional(CRD, undefined, 'widgets.example.com')));

    const r = await restoreNamespace(repo, h.kubeConfig(), { backup: 'crs-1', wait: false });
    expect(r.record!.items.filter((i) => i.outcome === 'failed')).toEqual([]);
    expect(r.plan.items.map((i) => i.ref.kind).filter((k) => k === 'CustomResourceDefinition' || k === 'Widget')).toEqual(['CustomResourceDefinition', 'Widget']);
    expect(((await client.get(W, 'crs', 'w1')).spec as { size: number }).size).toBe(3);
  });
});
