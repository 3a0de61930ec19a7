/* eslint-disable @typescript-eslint/no-explicit-any -- tests read loosely typed API objects */
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Controller, KubeObject } from '../store-api.js';
import { createControllers } from './index.js';
import { testingContext, type TestingStore } from './testing-store.js';
import { T, imageID, sha256Hex } from './util.js';

type Ctx = ReturnType<typeof testingContext>;

async function until<R>(fn: () => R | undefined | false, what = 'condition'): Promise<R> {
  for (let i = 0; i < 1000; i++) {
    const r = fn();
    if (r) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const st = (o: KubeObject | undefined) => (o?.status ?? {}) as Record<string, any>;

const deployment = (name: string, replicas: number, image = 'nginx:1.25'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image }] } },
  },
});

describe('controllers', () => {
  let dir: string;
  let ctx: Ctx;
  let store: TestingStore;
  let controllers: Controller[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kube-sim-ctrl-'));
    ctx = testingContext(dir);
    store = ctx.store;
    store.create(T.storageclasses, undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'hostpath.csi.k8s.io',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
    });
    controllers = createControllers();
    for (const c of controllers) c.start(ctx);
  });

  afterEach(async () => {
    for (const c of controllers) c.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('brings a Deployment up through a ReplicaSet and Ready pods, and rolls it', async () => {
    store.create(T.deployments, 'default', deployment('web', 3));
    const d = await until(() => {
      const o = store.get(T.deployments, 'default', 'web');
      return st(o).availableReplicas === 3 && st(o).updatedReplicas === 3 ? o : undefined;
    }, 'deployment available');
    expect(st(d).observedGeneration).toBe(1);
    const progressing = st(d).conditions.find((c: any) => c.type === 'Progressing');
    expect(progressing.reason).toBe('NewReplicaSetAvailable');
    expect(st(d).conditions.find((c: any) => c.type === 'Available').status).toBe('True');
    const rss = store.list(T.replicasets, 'default');
    expect(rss).toHaveLength(1);
    const rs = rss[0]!;
    const hash = rs.metadata.labels?.['pod-template-hash'];
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    const pods = store.list(T.pods, 'default');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name?.startsWith(`web-${hash}-`)).toBe(true);
      expect((p.spec as any).nodeName).toBe('kube-sim-node');
      expect(st(p).phase).toBe('Running');
      const cs = st(p).containerStatuses[0];
      expect(cs.ready).toBe(true);
      expect(cs.started).toBe(true);
      expect(cs.imageID).toBe(`docker.io/library/nginx@sha256:${sha256Hex('nginx:1.25')}`);
      expect(cs.image).toBe('docker.io/library/nginx:1.25');
      expect(st(p).conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
      expect(st(p).podIP).toMatch(/^10\.244\./);
    }

    // rolling update
    const cur = store.get(T.deployments, 'default', 'web')!;
    (cur.spec as any).template.spec.containers[0].image = 'nginx:1.27';
    store.update(T.deployments, 'default', cur);
    const d2 = await until(() => {
      const o = store.get(T.deployments, 'default', 'web');
      return st(o).observedGeneration === 2 && st(o).updatedReplicas === 3 && st(o).replicas === 3 && st(o).availableReplicas === 3
        ? o
        : undefined;
    }, 'rollout');
    expect(d2.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    const rss2 = store.list(T.replicasets, 'default');
    expect(rss2).toHaveLength(2);
    const old = rss2.find((r) => r.metadata.uid === rs.metadata.uid)!;
    expect((old.spec as any).replicas).toBe(0);
    const pods2 = store.list(T.pods, 'default');
    expect(pods2).toHaveLength(3);
    for (const p of pods2) expect(st(p).containerStatuses[0].imageID).toBe(imageID('nginx:1.27'));

    // revisionHistoryLimit: only the newest idle ReplicaSet is kept
    const limited = store.get(T.deployments, 'default', 'web')!;
    (limited.spec as any).revisionHistoryLimit = 1;
    (limited.spec as any).template.spec.containers[0].image = 'nginx:1.28';
    store.update(T.deployments, 'default', limited);
    await until(() => {
      const o = store.get(T.deployments, 'default', 'web');
      return st(o).observedGeneration === 3 && st(o).updatedReplicas === 3 && st(o).replicas === 3 && store.list(T.replicasets, 'default').length === 2;
    }, 'history limit');
  });

  it('normalizes image references for imageID', () => {
    expect(imageID('redis')).toBe(`docker.io/library/redis@sha256:${sha256Hex('redis')}`);
    expect(imageID('bitnami/redis:7.2')).toBe(`docker.io/bitnami/redis@sha256:${sha256Hex('bitnami/redis:7.2')}`);
    expect(imageID('gcr.io/google-samples/microservices-demo/frontend:v0.10.1')).toBe(
      `gcr.io/google-samples/microservices-demo/frontend@sha256:${sha256Hex('gcr.io/google-samples/microservices-demo/frontend:v0.10.1')}`,
    );
    expect(imageID('localhost:5000/app:1')).toBe(`localhost:5000/app@sha256:${sha256Hex('localhost:5000/app:1')}`);
    const pinned = `nginx@sha256:${'a'.repeat(64)}`;
    expect(imageID(pinned)).toBe(`docker.io/library/nginx@sha256:${'a'.repeat(64)}`);
  });

  it('is idempotent: a second set of controllers on existing state writes nothing', async () => {
    store.create(T.deployments, 'default', deployment('idem', 2));
    await until(() => st(store.get(T.deployments, 'default', 'idem')).availableReplicas === 2);
    for (const c of controllers) c.stop();
    await new Promise((r) => setTimeout(r, 50));
    const before = store.writes.length;
    controllers = createControllers();
    for (const c of controllers) c.start(ctx);
    await new Promise((r) => setTimeout(r, 200));
    expect(store.writes.slice(before)).toEqual([]);
  });

  it('waits while controllers are paused', async () => {
    ctx.paused = true;
    store.create(T.deployments, 'default', deployment('paused', 1));
    await new Promise((r) => setTimeout(r, 150));
    expect(store.list(T.replicasets, 'default')).toHaveLength(0);
    ctx.paused = false;
    await until(() => st(store.get(T.deployments, 'default', 'paused')).availableReplicas === 1);
  });

  it('keeps Endpoints and an EndpointSlice for a Service with a selector', async () => {
    const svcType = { group: '', version: 'v1', resource: 'services' };
    store.create(T.deployments, 'default', deployment('api', 2));
    const d = store.get(T.deployments, 'default', 'api')!;
    (d.spec as any).template.spec.containers[0].ports = [{ name: 'http', containerPort: 8080 }];
    store.update(T.deployments, 'default', d);
    store.create(svcType, 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', labels: { tier: 'web' } },
      spec: { selector: { app: 'api' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    });
    const ep = await until(() => {
      const o = store.get({ group: '', version: 'v1', resource: 'endpoints' }, 'default', 'api');
      const subsets = o?.subsets as any[] | undefined;
      return subsets?.[0]?.addresses?.length === 2 && !subsets[0].notReadyAddresses && store.list(T.pods, 'default').length === 2 ? o : undefined;
    }, 'endpoints');
    const subset = (ep.subsets as any[])[0];
    expect(subset.ports).toEqual([{ name: 'web', port: 8080, protocol: 'TCP' }]);
    const ips = store.list(T.pods, 'default').map((p) => st(p).podIP).sort();
    expect(subset.addresses.map((a: any) => a.ip).sort()).toEqual(ips);
    const slices = store.list({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' }, 'default');
    expect(slices).toHaveLength(1);
    expect(slices[0]!.metadata.labels).toMatchObject({ 'kubernetes.io/service-name': 'api', tier: 'web' });
    expect(slices[0]!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', name: 'api' });
    expect((slices[0]!.endpoints as any[]).every((e) => e.conditions.ready)).toBe(true);
    store.delete(svcType, 'default', 'api');
    await until(() => !store.get({ group: '', version: 'v1', resource: 'endpoints' }, 'default', 'api'), 'endpoints removed');
  });

  it('moves a relabeled pod between the Endpoints of the Services that select it', async () => {
    const svcType = { group: '', version: 'v1', resource: 'services' };
    const epType = { group: '', version: 'v1', resource: 'endpoints' };
    for (const app of ['a', 'b', 'c']) {
      store.create(svcType, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: app }, spec: { selector: { app }, ports: [{ port: 80 }] } });
    }
    // a Service selecting on two labels, and one without a selector (no Endpoints of its own)
    store.create(svcType, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a-web' }, spec: { selector: { app: 'a', tier: 'web' }, ports: [{ port: 80 }] } });
    store.create(svcType, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
    for (const name of ['p1', 'p2']) {
      store.create(T.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'a', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    }
    const ips = (svc: string) =>
      ((store.get(epType, 'default', svc)?.subsets as any[] | undefined) ?? []).flatMap((s) => (s.addresses ?? []).map((a: any) => a.targetRef.name)).sort().join(',');
    await until(() => ips('a') === 'p1,p2' && ips('a-web') === 'p1,p2', 'endpoints of a');
    expect(ips('b')).toBe('');
    const p1 = store.get(T.pods, 'default', 'p1')!;
    store.update(T.pods, 'default', { ...p1, metadata: { ...p1.metadata, labels: { app: 'b' } } });
    await until(() => ips('a') === 'p2' && ips('a-web') === 'p2' && ips('b') === 'p1', 'p1 moved to b');
    expect(ips('c')).toBe('');
    expect(store.get(epType, 'default', 'manual')).toBeUndefined();
    store.delete(T.pods, 'default', 'p2');
    await until(() => ips('a') === '' && ips('a-web') === '', 'p2 gone');
    expect(ips('b')).toBe('p1');
  });

  it('runs a StatefulSet with PVCs from volumeClaimTemplates and binds them to provisioned PVs', async () => {
    store.create(T.statefulsets, 'db', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'mysql' },
      spec: {
        replicas: 2,
        serviceName: 'mysql',
        selector: { matchLabels: { app: 'mysql' } },
        template: { metadata: { labels: { app: 'mysql' } }, spec: { containers: [{ name: 'mysql', image: 'mysql:8' }] } },
        volumeClaimTemplates: [
          { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } },
        ],
      },
    });
    const sts = await until(() => {
      const o = store.get(T.statefulsets, 'db', 'mysql');
      return st(o).readyReplicas === 2 && st(o).currentRevision === st(o).updateRevision ? o : undefined;
    }, 'statefulset ready');
    expect(st(sts)).toMatchObject({ replicas: 2, currentReplicas: 2, updatedReplicas: 2, observedGeneration: 1 });
    for (const i of [0, 1]) {
      const pod = store.get(T.pods, 'db', `mysql-${i}`)!;
      expect((pod.spec as any).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: `data-mysql-${i}` } });
      const pvc = store.get(T.pvcs, 'db', `data-mysql-${i}`)!;
      expect(st(pvc).phase).toBe('Bound');
      expect(pvc.metadata.annotations).toMatchObject({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
      expect((pvc.spec as any).storageClassName).toBe('standard');
      const pv = store.get(T.pvs, undefined, (pvc.spec as any).volumeName)!;
      expect(pv.metadata.name).toBe(`pvc-${pvc.metadata.uid}`);
      expect((pv.spec as any).csi.driver).toBe('hostpath.csi.k8s.io');
      expect((pv.spec as any).claimRef).toMatchObject({ name: `data-mysql-${i}`, namespace: 'db', uid: pvc.metadata.uid });
      expect((pv.spec as any).capacity.storage).toBe('1Gi');
      expect(st(pv).phase).toBe('Bound');
      expect(existsSync(join(dir, 'volumes', pv.metadata.name!))).toBe(true);
    }
  });

  it('keeps a pod Pending until its PVC binds, then reclaims the PV when the PVC goes', async () => {
    store.create(T.pods, 'ns', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'busybox' }], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'claim' } }] },
    });
    await until(() => st(store.get(T.pods, 'ns', 'p')).phase === 'Pending');
    await new Promise((r) => setTimeout(r, 50));
    expect(st(store.get(T.pods, 'ns', 'p')).phase).toBe('Pending');
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'claim' },
      spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } },
    });
    await until(() => st(store.get(T.pods, 'ns', 'p')).phase === 'Running', 'pod running');
    const pvName = (store.get(T.pvcs, 'ns', 'claim')!.spec as any).volumeName as string;
    expect(store.get(T.pvcs, 'ns', 'claim')!.metadata.finalizers).toContain('kubernetes.io/pvc-protection');
    // in use: the PVC stays while the pod exists
    store.delete(T.pvcs, 'ns', 'claim');
    await new Promise((r) => setTimeout(r, 50));
    expect(store.get(T.pvcs, 'ns', 'claim')?.metadata.deletionTimestamp).toBeTruthy();
    store.delete(T.pods, 'ns', 'p');
    await until(() => !store.get(T.pvcs, 'ns', 'claim'), 'pvc gone');
    await until(() => !store.get(T.pvs, undefined, pvName), 'pv gone');
    await until(() => !existsSync(join(dir, 'volumes', pvName)), 'volume dir removed');
  });

  it('provisions with the class named by the beta annotation', async () => {
    store.create(T.storageclasses, undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fast' },
      provisioner: 'k8s.io/minikube-hostpath',
    });
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'beta', annotations: { 'volume.beta.kubernetes.io/storage-class': 'fast' } },
      spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const pvc = await until(() => {
      const o = store.get(T.pvcs, 'ns', 'beta');
      return st(o).phase === 'Bound' ? o : undefined;
    });
    const pv = store.get(T.pvs, undefined, (pvc.spec as any).volumeName)!;
    expect((pv.spec as any).storageClassName).toBe('fast');
    expect((pv.spec as any).csi.driver).toBe('k8s.io/minikube-hostpath');
  });

  it('expands a bound volume when the claim asks for more and the class allows it', async () => {
    store.create(T.storageclasses, undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'expandable' },
      provisioner: 'hostpath.csi.k8s.io',
      allowVolumeExpansion: true,
    });
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'grow' },
      spec: { storageClassName: 'expandable', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const pvc = await until(() => {
      const o = store.get(T.pvcs, 'ns', 'grow');
      return st(o).phase === 'Bound' ? o : undefined;
    });
    (pvc.spec as any).resources.requests.storage = '3Gi';
    store.update(T.pvcs, 'ns', pvc);
    await until(() => st(store.get(T.pvcs, 'ns', 'grow')).capacity?.storage === '3Gi', 'expanded');
    expect((store.get(T.pvs, undefined, (pvc.spec as any).volumeName)!.spec as any).capacity.storage).toBe('3Gi');
  });

  it('binds a pre-existing PV whose claimRef names the claim', async () => {
    store.create(T.pvs, undefined, {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'static-pv' },
      spec: {
        capacity: { storage: '5Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'manual',
        claimRef: { namespace: 'ns', name: 'static' },
        hostPath: { path: '/mnt/data' },
      },
    });
    await until(() => st(store.get(T.pvs, undefined, 'static-pv')).phase === 'Available');
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'static' },
      spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const pvc = await until(() => {
      const o = store.get(T.pvcs, 'ns', 'static');
      return st(o).phase === 'Bound' ? o : undefined;
    });
    expect((pvc.spec as any).volumeName).toBe('static-pv');
    expect(st(pvc).capacity).toEqual({ storage: '5Gi' });
    expect((store.get(T.pvs, undefined, 'static-pv')!.spec as any).claimRef.uid).toBe(pvc.metadata.uid);
    store.delete(T.pvcs, 'ns', 'static');
    await until(() => st(store.get(T.pvs, undefined, 'static-pv')).phase === 'Released', 'released');
  });

  it('runs a Job to completion and DaemonSet pods on the node', async () => {
    store.create(T.jobs, 'ns', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    store.create(T.daemonsets, 'ns', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    const job = await until(() => {
      const o = store.get(T.jobs, 'ns', 'once');
      return st(o).succeeded === 1 ? o : undefined;
    }, 'job complete');
    expect(st(job).conditions.find((c: any) => c.type === 'Complete').status).toBe('True');
    expect(st(job).completionTime).toBeTruthy();
    const jobPods = store.list(T.pods, 'ns').filter((p) => p.metadata.labels?.['job-name'] === 'once');
    expect(jobPods).toHaveLength(1);
    expect(st(jobPods[0]).phase).toBe('Succeeded');
    const ds = await until(() => {
      const o = store.get(T.daemonsets, 'ns', 'agent');
      return st(o).numberReady === 1 ? o : undefined;
    });
    expect(st(ds)).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: 1 });
  });

  it('snapshots a volume and restores a new PVC from the snapshot', async () => {
    store.create(T.volumesnapshotclasses, undefined, {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotClass',
      metadata: { name: 'snapclass' },
      driver: 'hostpath.csi.k8s.io',
      deletionPolicy: 'Delete',
    });
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'src' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const src = await until(() => {
      const o = store.get(T.pvcs, 'ns', 'src');
      return st(o).phase === 'Bound' ? o : undefined;
    });
    const srcDir = join(dir, 'volumes', (src.spec as any).volumeName);
    await mkdir(join(srcDir, 'sub'), { recursive: true });
    await writeFile(join(srcDir, 'sub', 'file.txt'), 'hello snapshot');
    store.create(T.volumesnapshots, 'ns', {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: { name: 'snap' },
      spec: { volumeSnapshotClassName: 'snapclass', source: { persistentVolumeClaimName: 'src' } },
    });
    const vs = await until(() => {
      const o = store.get(T.volumesnapshots, 'ns', 'snap');
      return st(o).readyToUse === true ? o : undefined;
    }, 'snapshot ready');
    const contentName = st(vs).boundVolumeSnapshotContentName;
    expect(contentName).toBe(`snapcontent-${vs.metadata.uid}`);
    expect(st(vs).restoreSize).toBe('1Gi');
    expect(st(vs).creationTime).toBeTruthy();
    const content = store.get(T.volumesnapshotcontents, undefined, contentName)!;
    expect(content.spec).toMatchObject({ deletionPolicy: 'Delete', driver: 'hostpath.csi.k8s.io', volumeSnapshotRef: { name: 'snap', uid: vs.metadata.uid } });
    expect(st(content)).toMatchObject({ readyToUse: true, snapshotHandle: contentName });
    // data written after the snapshot is not in it
    await writeFile(join(srcDir, 'sub', 'file.txt'), 'changed later');
    store.create(T.pvcs, 'ns', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'restored' },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
        dataSource: { apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'snap' },
      },
    });
    const restored = await until(() => {
      const o = store.get(T.pvcs, 'ns', 'restored');
      return st(o).phase === 'Bound' ? o : undefined;
    }, 'restored bound');
    const data = await readFile(join(dir, 'volumes', (restored.spec as any).volumeName, 'sub', 'file.txt'), 'utf8');
    expect(data).toBe('hello snapshot');
    store.delete(T.volumesnapshots, 'ns', 'snap');
    await until(() => !store.get(T.volumesnapshotcontents, undefined, contentName), 'content deleted');
    await until(() => !existsSync(join(dir, 'snapshots', contentName)), 'snapshot copy deleted');
    expect(await readdir(join(dir, 'snapshots'))).toEqual([]);
  });
});
