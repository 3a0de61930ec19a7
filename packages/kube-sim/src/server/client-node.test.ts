/** The same flows through @kubernetes/client-node 1.4: list with pagination, watch, patch, errors. */
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch, makeInformer, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeSim } from '../sim.js';
import { startTestSim, type TestSim } from '../testing.js';

function kubeConfig(sim: { kubeconfigPath: string }, context = 'admin'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  kc.setCurrentContext(context);
  return kc;
}

describe('client-node', () => {
  let sim: TestSim;
  let core: CoreV1Api;
  beforeAll(async () => {
    sim = await startTestSim();
    core = kubeConfig(sim).makeApiClient(CoreV1Api);
  });
  afterAll(async () => {
    await sim?.dispose();
  });

  it('lists with limit/continue pagination', async () => {
    await core.createNamespace({ body: { metadata: { name: 'pages' } } });
    for (let i = 0; i < 25; i++) {
      await core.createNamespacedConfigMap({ namespace: 'pages', body: { metadata: { name: `cm-${String(i).padStart(2, '0')}`, labels: { parity: i % 2 ? 'odd' : 'even' } }, data: { i: String(i) } } });
    }
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: 'pages', limit: 10, _continue: cont });
      names.push(...page.items.map((c) => c.metadata!.name!));
      cont = page.metadata?._continue;
      pages++;
      if (cont) expect(page.metadata?.remainingItemCount).toBeGreaterThan(0);
    } while (cont);
    expect(pages).toBe(3);
    expect(names).toEqual([...names].sort());
    expect(names.filter((n) => n.startsWith('cm-')).length).toBe(25);
    expect(names).toContain('kube-root-ca.crt');
    const odd = await core.listNamespacedConfigMap({ namespace: 'pages', labelSelector: 'parity=odd' });
    expect(odd.items.length).toBe(12);
    const byName = await core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=cm-03,metadata.namespace=pages' });
    expect(byName.items.map((c) => c.metadata!.name)).toEqual(['cm-03']);
    await core.deleteCollectionNamespacedConfigMap({ namespace: 'pages', labelSelector: 'parity=odd' });
    const left = await core.listNamespacedConfigMap({ namespace: 'pages', labelSelector: 'parity' });
    expect(left.items.length).toBe(13);
    expect(left.items.every((c) => c.metadata!.labels!.parity === 'even')).toBe(true);
  });

  it('watches from a resourceVersion and sees ADDED, MODIFIED, DELETED', async () => {
    await core.createNamespace({ body: { metadata: { name: 'watched' } } });
    const list = await core.listNamespacedConfigMap({ namespace: 'watched' });
    const events: Array<[string, string]> = [];
    const watch = new Watch(kubeConfig(sim));
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const ctrl = await watch.watch(
      '/api/v1/namespaces/watched/configmaps',
      { resourceVersion: list.metadata!.resourceVersion, allowWatchBookmarks: true },
      (type, obj: V1ConfigMap) => {
        if (type === 'BOOKMARK') return;
        events.push([type, obj.metadata!.name!]);
        if (type === 'DELETED') done();
      },
      () => undefined,
    );
    await core.createNamespacedConfigMap({ namespace: 'watched', body: { metadata: { name: 'w' }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap({ namespace: 'watched', name: 'w', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ namespace: 'watched', name: 'w' });
    await finished;
    ctrl.abort();
    // the legacy /watch/ path prefix serves the same stream
    let first!: (e: string) => void;
    const firstEvent = new Promise<string>((r) => (first = r));
    const ctrl2 = await watch.watch('/api/v1/watch/namespaces/watched/configmaps', {}, (type, obj: V1ConfigMap) => first(`${type} ${obj.metadata!.name}`), () => undefined);
    expect(await firstEvent).toBe('ADDED kube-root-ca.crt');
    ctrl2.abort();
    expect(events).toEqual([
      ['ADDED', 'w'],
      ['MODIFIED', 'w'],
      ['DELETED', 'w'],
    ]);
  });

  it('feeds an informer (list then watch)', async () => {
    await core.createNamespace({ body: { metadata: { name: 'informed' } } });
    const informer = makeInformer(kubeConfig(sim), '/api/v1/namespaces/informed/configmaps', () => core.listNamespacedConfigMap({ namespace: 'informed' }));
    const seen: string[] = [];
    let deleted!: () => void;
    const gone = new Promise<void>((r) => (deleted = r));
    informer.on('add', (o) => seen.push(`add ${o.metadata!.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata!.name}`));
    informer.on('delete', (o) => {
      seen.push(`delete ${o.metadata!.name}`);
      if (o.metadata!.name === 'inf') deleted();
    });
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: 'informed', body: { metadata: { name: 'inf' }, data: { a: '1' } } });
    await core.patchNamespacedConfigMap({ namespace: 'informed', name: 'inf', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await core.deleteNamespacedConfigMap({ namespace: 'informed', name: 'inf' });
    await gone;
    await informer.stop();
    expect(seen).toEqual(['add kube-root-ca.crt', 'add inf', 'update inf', 'delete inf']);
    expect(informer.list().map((o) => o.metadata!.name)).toEqual(['kube-root-ca.crt']);
  });

  it('patches with merge, JSON, strategic and server-side apply', async () => {
    const apps = kubeConfig(sim).makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: 'patches' } } });
    await apps.createNamespacedDeployment({
      namespace: 'patches',
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27', env: [{ name: 'A', value: '1' }] }] } },
        },
      },
    });
    const smp = await apps.patchNamespacedDeployment(
      { namespace: 'patches', name: 'web', body: { spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '2' }] }] } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(smp.spec!.template.spec!.containers[0].env!.map((e) => e.name)).toEqual(['A', 'B']);
    expect(smp.spec!.template.spec!.containers[0].image).toBe('nginx:1.27');
    const jp = await apps.patchNamespacedDeployment(
      { namespace: 'patches', name: 'web', body: [{ op: 'replace', path: '/spec/replicas', value: 3 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jp.spec!.replicas).toBe(3);
    const objects = KubernetesObjectApi.makeApiClient(kubeConfig(sim));
    const applied = await objects.patch(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'patches' }, data: { x: '1' } },
      undefined,
      undefined,
      'my-manager',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect((applied as V1ConfigMap).data).toEqual({ x: '1' });
    expect(applied.metadata!.managedFields!.some((m) => m.manager === 'my-manager' && m.operation === 'Apply')).toBe(true);
    // a field the manager no longer applies goes away; fields of other managers stay
    const ssa = (data: Record<string, string>, manager: string) =>
      objects.patch({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa2', namespace: 'patches' }, data }, undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
    await ssa({ a: '1', b: '2' }, 'first');
    await ssa({ c: '3' }, 'second');
    const after = (await ssa({ a: '1' }, 'first')) as V1ConfigMap;
    expect(after.data).toEqual({ a: '1', c: '3' });
    // conflicts on a stale resourceVersion
    const cm = await core.readNamespacedConfigMap({ namespace: 'patches', name: 'ssa' });
    await core.replaceNamespacedConfigMap({ namespace: 'patches', name: 'ssa', body: { ...cm, data: { x: '2' } } });
    await expect(core.replaceNamespacedConfigMap({ namespace: 'patches', name: 'ssa', body: { ...cm, data: { x: '3' } } })).rejects.toMatchObject({ code: 409 });
    await expect(core.readNamespacedConfigMap({ namespace: 'patches', name: 'missing' })).rejects.toMatchObject({ code: 404 });
  });

  it('rejects unknown tokens with 401 and forbids by RBAC with 403', async () => {
    const kc = kubeConfig(sim);
    kc.users[0] = { ...kc.users[0], token: 'wrong' };
    const bad = new KubeConfig();
    bad.loadFromOptions({ clusters: kc.clusters, users: [{ name: 'x', token: 'wrong' }], contexts: [{ name: 'x', cluster: kc.clusters[0].name, user: 'x' }], currentContext: 'x' });
    await expect(bad.makeApiClient(CoreV1Api).listNamespace()).rejects.toMatchObject({ code: 401 });
    const dev = kubeConfig(sim, 'dev').makeApiClient(CoreV1Api);
    await expect(dev.listNamespacedSecret({ namespace: 'default' })).rejects.toMatchObject({ code: 403 });
    expect((await dev.listNamespacedSecret({ namespace: 'team-a' })).items).toEqual([]);
  });

  it('answers 405 for verbs discovery does not list and 422 for invalid objects', async () => {
    expect((await fetchAdmin(sim, '/api/v1/componentstatuses', 'POST', { apiVersion: 'v1', kind: 'ComponentStatus', metadata: { name: 'x' } })).status).toBe(405);
    const invalid = await fetchAdmin(sim, '/api/v1/namespaces/default/configmaps', 'POST', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', resourceVersion: '5' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    const noName = await fetchAdmin(sim, '/api/v1/namespaces/default/configmaps', 'POST', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} });
    expect(noName.status).toBe(422);
  });

  it('injects failures: status, drop, and through the admin path', async () => {
    sim.failures.add({ verb: 'list', resource: 'secrets', namespace: 'default', status: 503, times: 1 });
    await expect(core.listNamespacedSecret({ namespace: 'default' })).rejects.toMatchObject({ code: 503 });
    expect((await core.listNamespacedSecret({ namespace: 'default' })).items).toBeDefined();
    sim.failures.add({ verb: 'get', resource: 'configmaps', name: 'kube-root-ca.crt', drop: true, times: 1 });
    await expect(core.readNamespacedConfigMap({ namespace: 'default', name: 'kube-root-ca.crt' })).rejects.toThrow();
    const admin = await fetchAdmin(sim, '/kube-sim/failures', 'POST', { verb: 'create', resource: 'configmaps', status: 500, message: 'boom' });
    expect(admin.status).toBe(201);
    await expect(core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f' } } })).rejects.toMatchObject({ code: 500 });
    expect((await fetchAdmin(sim, '/kube-sim/failures', 'DELETE')).status).toBe(200);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'f' } } });
    expect((await fetchAdmin(sim, '/kube-sim/controllers/pause', 'POST')).status).toBe(200);
    expect(sim.ctx.controllersPaused()).toBe(true);
    await fetchAdmin(sim, '/kube-sim/controllers/resume', 'POST');
    expect(sim.ctx.controllersPaused()).toBe(false);
    expect((await fetchAdmin(sim, '/kube-sim/failures', 'GET', undefined, 'dev')).status).toBe(403);
  });
});

describe('persistence', () => {
  it('keeps state across restarts in the data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sim-restart-'));
    try {
      let sim = await KubeSim.start({ dataDir: dir, port: 0 });
      let core = kubeConfig(sim).makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'kept' } } });
      const created = await core.createNamespacedConfigMap({ namespace: 'kept', body: { metadata: { name: 'c' }, data: { v: '1' } } });
      await core.createNamespacedConfigMap({ namespace: 'kept', body: { metadata: { name: 'gone' } } });
      await core.deleteNamespacedConfigMap({ namespace: 'kept', name: 'gone' });
      await sim.stop();
      sim = await KubeSim.start({ dataDir: dir, port: 0 });
      core = kubeConfig(sim).makeApiClient(CoreV1Api);
      const again = await core.readNamespacedConfigMap({ namespace: 'kept', name: 'c' });
      expect(again.metadata!.uid).toBe(created.metadata!.uid);
      expect(again.data).toEqual({ v: '1' });
      await expect(core.readNamespacedConfigMap({ namespace: 'kept', name: 'gone' })).rejects.toMatchObject({ code: 404 });
      const next = await core.createNamespacedConfigMap({ namespace: 'kept', body: { metadata: { name: 'd' } } });
      expect(Number(next.metadata!.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));
      await sim.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function fetchAdmin(sim: TestSim, path: string, method: string, body?: unknown, user = 'admin'): Promise<{ status: number; body: unknown }> {
  const { request } = await import('node:https');
  const { readFileSync } = await import('node:fs');
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}${path}`,
      { method, ca: readFileSync(sim.caPath), headers: { Authorization: `Bearer ${sim.tokens[user]}`, 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
