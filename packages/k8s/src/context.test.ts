import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { KubeClient } from './client.js';
import { canI, connect, whoAmI } from './context.js';
import { setIntegrationModules } from './integration.js';
import { memoryRepo, startHarness, type Harness } from './test-support/sim.js';

describe('connecting and identity', () => {
  let h: Harness;
  beforeAll(async () => {
    setIntegrationModules({ volumes: null, hooks: null });
    h = await startHarness();
    const r = await h.kubectl(['create', 'configmap', 'c1', '-n', 'team-a', '--from-literal=a=1']);
    if (r.code !== 0) {
      await h.kubectl(['create', 'namespace', 'team-a']);
      await h.kubectl(['create', 'configmap', 'c1', '-n', 'team-a', '--from-literal=a=1']);
    }
  });
  afterAll(async () => {
    setIntegrationModules({});
    await h?.dispose();
  });

  it('honours kubeconfig path, context and the context namespace', () => {
    const c = connect({ kubeconfig: h.sim.kubeconfigPath, context: 'dev' });
    expect(c.namespace).toBe('team-a');
    expect(c.info).toMatchObject({ context: 'dev', cluster: 'kube-sim', server: h.sim.url, user: 'dev' });
    expect(connect({ kubeconfig: h.sim.kubeconfigPath, namespace: 'x' }).namespace).toBe('x');
    expect(() => connect({ kubeconfig: h.sim.kubeconfigPath, context: 'nope' })).toThrow(/context "nope" is not in the kubeconfig \(contexts: admin, dev, viewer\)/);
    expect(() => connect({ kubeconfig: '/no/such/file' })).toThrow(/does not exist/);
  });

  it('asks the cluster who we are (SelfSubjectReview) and what we may do', async () => {
    expect(await whoAmI(h.client('dev'))).toEqual({ username: 'dev', groups: expect.arrayContaining(['system:authenticated']), source: 'SelfSubjectReview' });
    expect(await canI(h.client('dev'), { verb: 'create', group: '', resource: 'configmaps', namespace: 'team-a' })).toBe(true);
    expect(await canI(h.client('dev'), { verb: 'create', group: '', resource: 'configmaps', namespace: 'default' })).toBe(false);
  });

  it('reports an unreachable cluster clearly', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'gone', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'secret-token-value' }],
      contexts: [{ name: 'c', cluster: 'gone', user: 'u' }],
      currentContext: 'c',
    });
    const err = (await new KubeClient(kc).request('GET', '/api').catch((e: unknown) => e)) as Error & { code: string };
    expect(err).toMatchObject({ code: 'EUNREACHABLE' });
    expect(err.message).toContain('https://127.0.0.1:1');
    expect(err.message).not.toContain('secret-token-value');
  });

  it("backs up as the namespace-limited user: forbidden types are warnings, fatal with failOnWarning", async () => {
    const repo = await memoryRepo();
    const r = await backupNamespace(repo, h.kubeConfig('dev'), { namespace: 'team-a', name: 'dev-1', volumes: 'none' });
    expect(r.manifest.actor).toBe('dev');
    expect(r.objects.map((o) => `${o.kind}/${o.name}`)).toContain('ConfigMap/c1');
    expect(r.warnings.some((w) => /roles\.rbac\.authorization\.k8s\.io not captured: forbidden: cannot list roles\.rbac\.authorization\.k8s\.io in namespace "team-a"; check with `kubectl auth can-i list roles\.rbac\.authorization\.k8s\.io -n team-a`/.test(w))).toBe(true);
    await expect(backupNamespace(repo, h.kubeConfig('dev'), { namespace: 'team-a', name: 'dev-2', volumes: 'none', failOnWarning: true })).rejects.toMatchObject({ code: 'EWARNINGS' });
    await expect(backupNamespace(repo, h.kubeConfig('dev'), { namespace: 'default', name: 'dev-3', volumes: 'none' })).rejects.toMatchObject({
      code: 'EFORBIDDEN',
      message: expect.stringContaining('kubectl auth can-i list configmaps -n default'),
    });
  });
});
