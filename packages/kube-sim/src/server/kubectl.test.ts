/**
 * Conformance: kube-sim driven by the real kubectl binaries (1.27 and 1.33 — the oldest uses
 * OpenAPI v2 and JSON bodies, the newest OpenAPI v3 and protobuf for its typed clients).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlBinaries, startTestSim, type TestSim } from '../testing.js';

const APPS = fileURLToPath(new URL('../../../../test/fixtures/apps/', import.meta.url));
const apps = readdirSync(APPS).sort();

/** Manifest files of an app (kustomize files are not Kubernetes objects). */
function manifestArgs(app: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (/\.ya?ml$/.test(e.name) && !e.name.startsWith('kustomization')) files.push(join(dir, e.name));
    }
  };
  walk(join(APPS, app));
  return files.sort().flatMap((f) => ['-f', f]);
}

/** Apps whose manifests name their namespace are applied there; the others into `ns`. */
function nsArgs(app: string, ns: string): string[] {
  return app === 'descheduler-cronjob' ? [] : ['-n', ns];
}

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string; managedFields?: Array<{ manager: string; operation: string }> };
  spec?: Record<string, unknown>;
  items?: Obj[];
  data?: Record<string, string>;
  [k: string]: unknown;
}

describe.each(kubectlBinaries())('kubectl $version', ({ path }) => {
  let sim: TestSim;
  const k = (args: string[], input?: string) => sim.kubectl(args, { binary: path, input });
  const ok = async (args: string[], input?: string) => {
    const r = await k(args, input);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const json = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json'])) as Obj;

  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(async () => {
    await sim?.dispose();
  });

  it('reports the server version and discovery', async () => {
    expect(await ok(['version'])).toContain('v1.33.0-kubesim');
    const resources = await ok(['api-resources']);
    expect(resources).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(resources).toContain('volumesnapshots');
    expect(await ok(['get', 'storageclass'])).toMatch(/standard \(default\)\s+hostpath\.csi\.kubesim\.io/);
  });

  it.each(apps)('applies the %s app client-side, twice', async (app) => {
    const ns = `cs-${app}`;
    await ok(['create', 'namespace', ns]);
    const first = await ok(['apply', ...manifestArgs(app), ...nsArgs(app, ns)]);
    expect(first).toMatch(/created/);
    const second = await ok(['apply', ...manifestArgs(app), ...nsArgs(app, ns)]);
    expect(second).not.toMatch(/ created/);
    expect(second).toMatch(/unchanged|configured/);
    const all = await json(['get', 'deployments,statefulsets,services,configmaps,cronjobs', ...(nsArgs(app, ns).length ? ['-n', ns] : ['-n', 'kube-system'])]);
    expect(all.items!.length).toBeGreaterThan(0);
  });

  it.each(apps)('applies the %s app server-side', async (app) => {
    const ns = `ss-${app}`;
    await ok(['create', 'namespace', ns]);
    const out = await ok(['apply', '--server-side', '--force-conflicts', ...manifestArgs(app), ...nsArgs(app, ns)]);
    expect(out).toMatch(/serverside-applied/);
    const again = await ok(['apply', '--server-side', '--force-conflicts', ...manifestArgs(app), ...nsArgs(app, ns)]);
    expect(again).toMatch(/serverside-applied/);
    const deps = await json(['get', 'deployments,statefulsets,cronjobs', '--show-managed-fields', '-n', nsArgs(app, ns).length ? ns : 'kube-system']);
    expect(deps.items!.length).toBeGreaterThan(0);
    for (const d of deps.items!) expect(d.metadata.managedFields?.some((m) => m.manager === 'kubectl' && m.operation === 'Apply')).toBe(true);
  });

  it('gets with -o json, -o yaml, -o wide and label selectors', async () => {
    const ns = 'get-test';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', join(APPS, 'guestbook'), '-n', ns]);
    const deps = await json(['get', 'deployments', '-n', ns]);
    expect(deps.items!.map((d) => d.metadata.name).sort()).toEqual(['frontend', 'redis-master', 'redis-replica']);
    expect(await ok(['get', 'deployment', 'frontend', '-n', ns, '-o', 'yaml'])).toMatch(/kind: Deployment[\s\S]*name: frontend/);
    const wide = await ok(['get', 'services', '-n', ns, '-o', 'wide']);
    expect(wide).toMatch(/NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR/);
    expect(wide).toMatch(/frontend\s+NodePort\s+10\.9\d\.\d+\.\d+\s+<none>\s+80:3\d{4}\/TCP/);
    const wideDeps = await ok(['get', 'deployments', '-n', ns, '-o', 'wide']);
    expect(wideDeps).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR/);
    const redis = await json(['get', 'services', '-n', ns, '-l', 'app=redis']);
    expect(redis.items!.map((s) => s.metadata.name).sort()).toEqual(['redis-master', 'redis-replica']);
    const notMaster = await json(['get', 'services', '-n', ns, '-l', 'app=redis,role!=master']);
    expect(notMaster.items!.map((s) => s.metadata.name)).toEqual(['redis-replica']);
    const inSet = await json(['get', 'services', '-n', ns, '-l', 'role in (master,replica),tier']);
    expect(inSet.items!.length).toBe(2);
    const noTier = await json(['get', 'services', '-n', ns, '-l', '!tier']);
    expect(noTier.items!.map((s) => s.metadata.name)).toEqual([]);
    const byName = await json(['get', 'services', '-n', ns, '--field-selector', 'metadata.name=frontend']);
    expect(byName.items!.map((s) => s.metadata.name)).toEqual(['frontend']);
    const names = await ok(['get', 'services', '-A', '-l', 'app=guestbook', '-o', 'name']);
    expect(names.trim().split('\n')).toContain('service/frontend');
    // chunked listing (kubectl asks for 500 at a time; force small chunks)
    const chunked = await ok(['get', 'configmaps,serviceaccounts', '-A', '--chunk-size', '2', '-o', 'name']);
    expect(chunked.split('\n').filter((l) => l.includes('kube-root-ca.crt')).length).toBeGreaterThan(5);
  });

  it('creates, replaces and reports conflicts and errors', async () => {
    const ns = 'crud';
    await ok(['create', 'namespace', ns]);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns, labels: { a: 'b' } }, data: { k: 'v1' } };
    expect(await ok(['create', '-f', '-'], JSON.stringify(cm))).toContain('configmap/settings created');
    const again = await k(['create', '-f', '-'], JSON.stringify(cm));
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('AlreadyExists');
    const live = await json(['get', 'configmap', 'settings', '-n', ns]);
    expect(live.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    const rv = live.metadata.resourceVersion!;
    const replaced = { ...cm, metadata: { ...cm.metadata, resourceVersion: rv }, data: { k: 'v2' } };
    expect(await ok(['replace', '-f', '-'], JSON.stringify(replaced))).toContain('configmap/settings replaced');
    const after = await json(['get', 'configmap', 'settings', '-n', ns]);
    expect(after.data).toEqual({ k: 'v2' });
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(rv));
    const stale = await k(['replace', '-f', '-'], JSON.stringify({ ...replaced, data: { k: 'v3' } }));
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('the object has been modified');
    const missing = await k(['get', 'configmap', 'nope', '-n', ns]);
    expect(missing.stderr).toContain('configmaps "nope" not found');
    const bad = await k(['create', 'configmap', 'Bad_Name', '-n', ns]);
    expect(bad.stderr).toMatch(/is invalid: metadata.name/);
    // generateName
    const gen = await ok(['create', '-f', '-', '-o', 'name'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', namespace: ns } }));
    expect(gen.trim()).toMatch(/^configmap\/gen-[a-z0-9]{5}$/);
    // dry run leaves nothing behind
    await ok(['create', 'configmap', 'dry', '-n', ns, '--dry-run=server']);
    expect((await k(['get', 'configmap', 'dry', '-n', ns])).code).not.toBe(0);
    const dotted = await k(['create', 'namespace', 'a.b']);
    expect(dotted.stderr).toMatch(/a lowercase RFC 1123 label/);
    // namespaced objects need an existing namespace
    const noNs = await k(['create', 'configmap', 'x', '-n', 'does-not-exist']);
    expect(noNs.stderr).toContain('namespaces "does-not-exist" not found');
  });

  it('accepts the objects of kubectl create generators (protobuf bodies on kubectl >= 1.32)', async () => {
    const ns = 'generators';
    await ok(['create', 'namespace', ns]);
    const cmds = [
      ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=8080'],
      ['create', 'service', 'nodeport', 'svc', '--tcp=80:8080'],
      ['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi'],
      ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'],
      ['create', 'role', 'reader', '--verb=get,list', '--resource=pods'],
      ['create', 'rolebinding', 'reader', '--role=reader', '--user=u', '--serviceaccount=generators:default'],
      ['create', 'quota', 'q', '--hard=pods=2,cpu=1'],
      ['create', 'pdb', 'pdb', '--selector=app=web', '--min-available=1'],
      ['create', 'ingress', 'ing', '--class=nginx', '--rule=a.example.com/p*=svc:80,tls=cert'],
      ['create', 'secret', 'generic', 'pw', '--from-literal=password=s3cret'],
      ['create', 'serviceaccount', 'robot'],
    ];
    for (const c of cmds) await ok([...c, '-n', ns]);
    const web = await json(['get', 'deployment', 'web', '-n', ns]);
    expect(web.spec!.replicas).toBe(2);
    const c0 = (web.spec!.template as { spec: { containers: Array<{ image: string; ports: Array<{ containerPort: number }> }> } }).spec.containers[0];
    expect(c0.image).toBe('nginx:1.27');
    expect(c0.ports[0].containerPort).toBe(8080);
    const svc = await json(['get', 'service', 'svc', '-n', ns]);
    expect((svc.spec!.ports as Array<{ targetPort: number; nodePort: number }>)[0]).toMatchObject({ targetPort: 8080, nodePort: expect.any(Number) });
    expect(((await json(['get', 'role', 'reader', '-n', ns])).rules as unknown[])[0]).toEqual({ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] });
    expect((await json(['get', 'rolebinding', 'reader', '-n', ns])).subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'u' },
      { kind: 'ServiceAccount', name: 'default', namespace: ns },
    ]);
    expect((await json(['get', 'ingress', 'ing', '-n', ns])).spec).toMatchObject({
      ingressClassName: 'nginx',
      rules: [{ host: 'a.example.com', http: { paths: [{ path: '/p', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }],
    });
    expect(Buffer.from((await json(['get', 'secret', 'pw', '-n', ns])).data!.password, 'base64').toString()).toBe('s3cret');
    expect((await ok(['create', 'token', 'robot', '-n', ns])).trim().length).toBeGreaterThan(10);
  });

  it('patches with merge, JSON and strategic merge patches', async () => {
    const ns = 'patching';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', join(APPS, 'guestbook', 'frontend-deployment.yaml'), '-n', ns]);
    const gen1 = (await json(['get', 'deployment', 'frontend', '-n', ns])).metadata as { generation?: number };
    await ok(['patch', 'deployment', 'frontend', '-n', ns, '--type', 'merge', '-p', '{"metadata":{"labels":{"patched":"merge"}}}']);
    let d = await json(['get', 'deployment', 'frontend', '-n', ns]);
    expect(d.metadata.labels?.patched).toBe('merge');
    expect((d.metadata as { generation?: number }).generation).toBe(gen1.generation);
    // strategic: containers merge by name, a new one is added, env merged
    await ok(['patch', 'deployment', 'frontend', '-n', ns, '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } })]);
    d = await json(['get', 'deployment', 'frontend', '-n', ns]);
    const names = () => ((d.spec!.template as { spec: { containers: Array<{ name: string; image: string }> } }).spec.containers).map((c) => c.name);
    expect(names()).toEqual(['php-redis', 'sidecar']);
    expect((d.metadata as { generation?: number }).generation).toBe((gen1.generation ?? 0) + 1);
    await ok(['patch', 'deployment', 'frontend', '-n', ns, '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } })]);
    d = await json(['get', 'deployment', 'frontend', '-n', ns]);
    expect(names()).toEqual(['php-redis']);
    await ok(['patch', 'deployment', 'frontend', '-n', ns, '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":5},{"op":"add","path":"/metadata/annotations/x","value":"y"}]']);
    d = await json(['get', 'deployment', 'frontend', '-n', ns]);
    expect(d.spec!.replicas).toBe(5);
    const failed = await k(['patch', 'deployment', 'frontend', '-n', ns, '--type', 'json', '-p', '[{"op":"test","path":"/spec/replicas","value":1}]']);
    expect(failed.code).not.toBe(0);
    // scale subresource
    await ok(['scale', 'deployment', 'frontend', '-n', ns, '--replicas', '2']);
    expect((await json(['get', 'deployment', 'frontend', '-n', ns])).spec!.replicas).toBe(2);
    // label / annotate go through patches too
    await ok(['label', 'deployment', 'frontend', '-n', ns, 'team=blue']);
    expect((await json(['get', 'deployment', 'frontend', '-n', ns])).metadata.labels?.team).toBe('blue');
  });

  it('reports server-side apply conflicts with other managers unless forced', async () => {
    const ns = 'ssa-conflicts';
    await ok(['create', 'namespace', ns]);
    await ok(['create', 'configmap', 'shared', '-n', ns, '--from-literal=mode=one']);
    const cm = (mode: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: ns }, data: { mode } });
    const clash = await k(['apply', '--server-side', '-f', '-'], cm('two'));
    expect(clash.code).not.toBe(0);
    expect(clash.stderr).toMatch(/conflict with "kubectl-create"[\s\S]*\.data\.mode/);
    expect(await ok(['apply', '--server-side', '-f', '-'], cm('one'))).toContain('serverside-applied');
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], cm('two'))).toContain('serverside-applied');
    expect((await json(['get', 'configmap', 'shared', '-n', ns])).data).toEqual({ mode: 'two' });
  });

  it('aggregates the default ClusterRoles', async () => {
    const edit = await json(['get', 'clusterrole', 'edit']);
    const rules = edit.rules as Array<{ resources?: string[]; verbs: string[] }>;
    expect(rules.some((r) => r.resources?.includes('pods/exec') && r.verbs.includes('create'))).toBe(true);
    expect(rules.some((r) => r.resources?.includes('deployments') && r.verbs.includes('list'))).toBe(true);
    const admin = await json(['get', 'clusterrole', 'admin']);
    expect((admin.rules as Array<{ resources?: string[] }>).some((r) => r.resources?.includes('rolebindings'))).toBe(true);
  });

  it('refuses changes to immutable fields like a real API server', async () => {
    const ns = 'immutable';
    await ok(['create', 'namespace', ns]);
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'frozen', namespace: ns }, data: { a: '1' }, immutable: true }));
    const frozen = await k(['patch', 'configmap', 'frozen', '-n', ns, '--type=merge', '-p', '{"data":{"a":"2"}}']);
    expect(frozen.stderr).toContain('field is immutable when `immutable` is set');
    await ok(['label', 'configmap', 'frozen', '-n', ns, 'still=labelable']);

    await ok(['apply', '-f', join(APPS, 'guestbook', 'frontend-deployment.yaml'), '-n', ns]);
    const selector = await k(['patch', 'deployment', 'frontend', '-n', ns, '--type=merge', '-p', '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}']);
    expect(selector.stderr).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
    await ok(['set', 'image', 'deployment/frontend', '-n', ns, 'php-redis=gb-frontend:v6']);
    await ok(['rollout', 'restart', 'deployment/frontend', '-n', ns]);

    await ok(['create', 'service', 'clusterip', 'fixed', '--tcp=80:80', '-n', ns]);
    const ip = await k(['patch', 'service', 'fixed', '-n', ns, '--type=merge', '-p', '{"spec":{"clusterIP":"10.96.99.99"}}']);
    expect(ip.stderr).toContain('may not change once set');

    await ok(['apply', '-f', join(APPS, 'mysql-replicated', 'mysql-statefulset.yaml'), '-n', ns]);
    const vct = await k(['patch', 'statefulset', 'mysql', '-n', ns, '--type=json', '-p', '[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"20Gi"}]']);
    expect(vct.stderr).toContain("updates to statefulset spec for fields other than 'replicas'");
    await ok(['scale', 'statefulset', 'mysql', '-n', ns, '--replicas=1']);
    const pvc = await k(['patch', 'pvc', 'data-mysql-0', '-n', ns, '--type=merge', '-p', '{"spec":{"storageClassName":"other"}}']);
    expect(pvc.stderr).toContain('spec is immutable after creation');

    await ok(['run', 'solo', '--image=nginx:1.27', '-n', ns]);
    const env = await k(['patch', 'pod', 'solo', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/spec/containers/0/env","value":[{"name":"A","value":"1"}]}]']);
    expect(env.stderr).toContain('pod updates may not change fields other than');
    await ok(['set', 'image', 'pod/solo', '-n', ns, 'solo=nginx:1.28']);
  });

  it('validates objects like a real API server', async () => {
    const ns = 'validation';
    await ok(['create', 'namespace', ns]);
    const create = (o: unknown) => k(['create', '-f', '-', '-n', ns], JSON.stringify(o));
    const deploy = (selector: unknown, labels: unknown, containers: unknown) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector, template: { metadata: { labels }, spec: { containers } } },
    });
    expect((await create(deploy(undefined, { a: 'b' }, [{ name: 'c', image: 'i' }]))).stderr).toContain('spec.selector: Required value');
    expect((await create(deploy({ matchLabels: { a: 'b' } }, { a: 'x' }, [{ name: 'c', image: 'i' }]))).stderr).toContain('`selector` does not match template `labels`');
    expect((await create(deploy({ matchLabels: { a: 'b' } }, { a: 'b' }, [{ name: 'c' }]))).stderr).toContain('spec.template.spec.containers[0].image: Required value');
    expect((await create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'l', labels: { 'bad key!': 'v' } } })).stderr).toContain('metadata.labels: Invalid value: "bad key!"');
    expect((await create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { a: 'b' } } })).stderr).toContain('spec.ports: Required value');
    expect((await create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'p' }, spec: { resources: { requests: { storage: '1Gi' } } } })).stderr).toContain(
      'spec.accessModes: Required value',
    );
    const del = await k(['delete', 'namespace', 'kube-system']);
    expect(del.stderr).toContain('this namespace may not be deleted');
  });

  it('updates status only through the status subresource', async () => {
    const ns = 'status-sub';
    await ok(['create', 'namespace', ns]);
    await ok(['create', 'service', 'loadbalancer', 'lb', '--tcp=80:8080', '-n', ns]);
    // a status change through the main resource is ignored
    await ok(['patch', 'service', 'lb', '-n', ns, '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"9.9.9.9"}]}}}']);
    expect((await json(['get', 'service', 'lb', '-n', ns])).status).toEqual({ loadBalancer: {} });
    await ok(['patch', 'service', 'lb', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"loadBalancer":{"ingress":[{"ip":"1.2.3.4"}]}}}']);
    expect(await ok(['get', 'service', 'lb', '-n', ns])).toMatch(/lb\s+LoadBalancer\s+10\.\S+\s+1\.2\.3\.4\s+80:3\d{4}\/TCP/);
    const viaSub = await json(['get', 'service', 'lb', '-n', ns, '--subresource=status']);
    expect(viaSub.status).toEqual({ loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } });
  });

  it('deletes a namespace with everything in it', async () => {
    const ns = 'doomed';
    await ok(['create', 'namespace', ns]);
    await ok(['apply', '-f', join(APPS, 'guestbook'), '-n', ns]);
    await ok(['apply', '-f', join(APPS, 'mysql-replicated'), '-n', ns]);
    expect((await json(['get', 'serviceaccount', 'default', '-n', ns])).metadata.name).toBe('default');
    expect((await json(['get', 'configmap', 'kube-root-ca.crt', '-n', ns])).data!['ca.crt']).toContain('BEGIN CERTIFICATE');
    await ok(['delete', 'namespace', ns, '--timeout=30s']);
    const gone = await k(['get', 'namespace', ns]);
    expect(gone.stderr).toContain(`namespaces "${ns}" not found`);
    const left = await json(['get', 'deployments,services,configmaps,statefulsets,pods,persistentvolumeclaims', '-n', ns]);
    expect(left.items).toEqual([]);
  });

  it('deletes with cascading to owned objects (background, foreground, orphan)', async () => {
    const ns = 'cascade';
    await ok(['create', 'namespace', ns]);
    const owner = JSON.parse(await ok(['create', 'configmap', 'owner', '-n', ns, '-o', 'json'])) as Obj;
    const dependent = (name: string, o: Obj) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid, blockOwnerDeletion: true }] },
    });
    await ok(['create', '-f', '-'], JSON.stringify(dependent('dep-bg', owner)));
    await ok(['delete', 'configmap', 'owner', '-n', ns, '--cascade=background']);
    await waitFor(async () => (await k(['get', 'configmap', 'dep-bg', '-n', ns])).code !== 0);

    const owner2 = JSON.parse(await ok(['create', 'configmap', 'owner2', '-n', ns, '-o', 'json'])) as Obj;
    await ok(['create', '-f', '-'], JSON.stringify(dependent('dep-fg', owner2)));
    await ok(['delete', 'configmap', 'owner2', '-n', ns, '--cascade=foreground', '--timeout=30s']);
    expect((await k(['get', 'configmap', 'dep-fg', '-n', ns])).code).not.toBe(0);
    expect((await k(['get', 'configmap', 'owner2', '-n', ns])).code).not.toBe(0);

    const owner3 = JSON.parse(await ok(['create', 'configmap', 'owner3', '-n', ns, '-o', 'json'])) as Obj;
    await ok(['create', '-f', '-'], JSON.stringify(dependent('dep-orphan', owner3)));
    await ok(['delete', 'configmap', 'owner3', '-n', ns, '--cascade=orphan']);
    const orphan = await json(['get', 'configmap', 'dep-orphan', '-n', ns]);
    expect(orphan.metadata).not.toHaveProperty('ownerReferences');
  });

  it('honours finalizers with deletionTimestamp', async () => {
    const ns = 'finalizers';
    await ok(['create', 'namespace', ns]);
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns, finalizers: ['example.com/hold'] } }));
    await ok(['delete', 'configmap', 'held', '-n', ns, '--wait=false']);
    const held = await json(['get', 'configmap', 'held', '-n', ns]);
    expect(held.metadata).toHaveProperty('deletionTimestamp');
    const more = await k(['patch', 'configmap', 'held', '-n', ns, '--type=json', '-p', '[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]']);
    expect(more.stderr).toContain('no new finalizers can be added if the object is being deleted');
    // the namespace waits for the held object; nothing new may be created meanwhile
    await ok(['delete', 'namespace', ns, '--wait=false']);
    expect(await ok(['get', 'namespace', ns])).toMatch(/Terminating/);
    expect((await k(['create', 'configmap', 'late', '-n', ns])).stderr).toContain(`because it is being terminated`);
    await ok(['patch', 'configmap', 'held', '-n', ns, '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
    expect((await k(['get', 'configmap', 'held', '-n', ns])).code).not.toBe(0);
    await ok(['wait', '--for=delete', `namespace/${ns}`, '--timeout=30s']);
  });

  it('answers auth can-i and auth whoami for both users', async () => {
    expect((await ok(['auth', 'can-i', 'create', 'deployments', '-n', 'default'])).trim()).toBe('yes');
    expect((await ok(['auth', 'can-i', '*', '*', '--all-namespaces'])).trim()).toBe('yes');
    const dev = (args: string[]) => k(['--context', 'dev', ...args]);
    expect((await dev(['auth', 'can-i', 'create', 'deployments', '-n', 'team-a'])).stdout.trim()).toBe('yes');
    expect((await dev(['auth', 'can-i', 'get', 'secrets', '-n', 'team-a'])).stdout.trim()).toBe('yes');
    expect((await dev(['auth', 'can-i', 'create', 'pods/exec', '-n', 'team-a'])).stdout.trim()).toBe('yes');
    expect((await dev(['auth', 'can-i', 'create', 'rolebindings', '-n', 'team-a'])).stdout.trim()).toBe('no');
    expect((await dev(['auth', 'can-i', 'create', 'deployments', '-n', 'default'])).stdout.trim()).toBe('no');
    expect((await dev(['auth', 'can-i', 'list', 'nodes'])).stdout.trim()).toBe('no');
    const list = await dev(['auth', 'can-i', '--list', '-n', 'team-a']);
    expect(list.stdout).toMatch(/deployments\.apps\s+\[\]\s+\[\]\s+\[.*create.*\]/);
    const whoamiArgs = ['auth', 'whoami', '-o', 'json'];
    const who = JSON.parse((await dev(whoamiArgs)).stdout) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(who.status.userInfo.username).toBe('dev');
    const adminWho = JSON.parse(await ok(whoamiArgs)) as { status: { userInfo: { username: string; groups: string[] } } };
    expect(adminWho.status.userInfo.groups).toContain('system:masters');
  });

  it('enforces RBAC on requests', async () => {
    const dev = (args: string[]) => k(['--context', 'dev', ...args]);
    const denied = await dev(['get', 'configmaps', '-n', 'default']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('configmaps is forbidden: User "dev" cannot list resource "configmaps" in API group "" in the namespace "default"');
    expect((await dev(['create', 'configmap', 'mine', '-n', 'team-a'])).code).toBe(0);
    expect((await dev(['get', 'configmap', 'mine', '-o', 'name'])).stdout.trim()).toBe('configmap/mine');
    // a namespace-limited user deploys an app in its namespace, but not cluster-scoped objects
    expect((await dev(['apply', '-f', join(APPS, 'guestbook')])).stdout).toContain('deployment.apps/frontend created');
    expect((await dev(['apply', '--server-side', '-f', join(APPS, 'guestbook')])).code).toBe(0);
    const sc = await dev(['apply', '-f', join(APPS, 'cassandra', 'cassandra-statefulset.yaml')]);
    expect(sc.stderr).toContain('storageclasses.storage.k8s.io "fast" is forbidden: User "dev" cannot get resource "storageclasses"');
    const viewer = await k(['--context', 'viewer', 'delete', 'configmap', 'mine', '-n', 'team-a']);
    expect(viewer.stderr).toContain('forbidden');
    expect((await k(['--context', 'viewer', 'get', 'configmap', 'mine', '-n', 'team-a', '-o', 'name'])).stdout.trim()).toBe('configmap/mine');
  });

  it('impersonates users and authenticates ServiceAccount tokens', async () => {
    expect((await ok(['--as', 'dev', 'auth', 'can-i', 'create', 'deployments', '-n', 'team-a'])).trim()).toBe('yes');
    const denied = await k(['--as', 'dev', 'get', 'secrets', '-n', 'default']);
    expect(denied.stderr).toContain('User "dev" cannot list resource "secrets"');
    const devAs = await k(['--context', 'dev', '--as', 'admin', 'get', 'pods']);
    expect(devAs.stderr).toContain('cannot impersonate resource "users"');
    await ok(['create', 'serviceaccount', 'robot', '-n', 'team-a']);
    await ok(['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=team-a:robot', '-n', 'team-a']);
    const token = (await ok(['create', 'token', 'robot', '-n', 'team-a'])).trim();
    const asRobot = (args: string[]) => k(['--token', token, '--user', '', ...args]);
    expect((await asRobot(['get', 'configmaps', '-n', 'team-a', '-o', 'name'])).stdout).toContain('configmap/kube-root-ca.crt');
    expect((await asRobot(['delete', 'configmap', 'kube-root-ca.crt', '-n', 'team-a'])).stderr).toContain('User "system:serviceaccount:team-a:robot" cannot delete');
    const legacy = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'robot-token', namespace: 'team-a', annotations: { 'kubernetes.io/service-account.name': 'robot' } } };
    await ok(['create', '-f', '-'], JSON.stringify(legacy));
    const secret = await json(['get', 'secret', 'robot-token', '-n', 'team-a']);
    expect(Buffer.from(secret.data!.token, 'base64').toString()).toMatch(/^kubesim-sa\./);
    expect(Buffer.from(secret.data!['ca.crt'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
  });

  it('serves custom resources of CRDs created at run time', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wg'] },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
            additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
          },
        ],
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(crd));
    await ok(['create', 'namespace', 'crs']);
    const w = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'crs' }, spec: { size: 3 } };
    expect(await ok(['apply', '-f', '-'], JSON.stringify(w))).toContain('widget.example.com/w1 created');
    expect(await ok(['apply', '-f', '-'], JSON.stringify({ ...w, spec: { size: 4 } }))).toContain('configured');
    expect(await ok(['get', 'wg', '-n', 'crs'])).toMatch(/NAME\s+SIZE\s+AGE\s+w1\s+4/);
    await ok(['delete', 'crd', 'widgets.example.com']);
    expect((await k(['get', 'widgets', '-n', 'crs'])).code).not.toBe(0);
  });
});

async function waitFor(cond: () => Promise<boolean>, tries = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('every installed kubectl version (smoke)', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(async () => {
    await sim?.dispose();
  });

  it.each(kubectlBinaries(['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33']))('kubectl $version: apply, rollout, auth, create, delete', async ({ version, path }) => {
    const ns = `smoke-${version.replace('.', '-')}`;
    const k = async (args: string[]) => {
      const r = await sim.kubectl(args, { binary: path });
      if (r.code !== 0) throw new Error(`kubectl ${version} ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    await k(['create', 'namespace', ns]);
    expect(await k(['apply', '-f', join(APPS, 'guestbook'), '-n', ns])).toContain('deployment.apps/frontend created');
    expect(await k(['apply', '--server-side', '-f', join(APPS, 'mysql-replicated'), '-n', ns])).toContain('statefulset.apps/mysql serverside-applied');
    expect(await k(['create', 'deployment', 'web', '--image=nginx:1.27', '-n', ns])).toContain('created');
    expect(await k(['rollout', 'status', 'deployment/frontend', '-n', ns, '--timeout=60s'])).toContain('successfully rolled out');
    expect((await k(['--context', 'dev', 'auth', 'can-i', 'create', 'pods', '-n', 'team-a'])).trim()).toBe('yes');
    expect(await k(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).toBe('admin');
    expect(await k(['delete', 'namespace', ns, '--timeout=60s'])).toContain('deleted');
  });
});
