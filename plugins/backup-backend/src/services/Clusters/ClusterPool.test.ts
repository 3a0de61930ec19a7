/** Cluster credentials from config (url + token + caData, or a kubeconfig) reach kube-sim as configured. */
import { readFileSync } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { clusterInfo, toClient, whoAmI } from '@kubectl-backup/k8s';
import { startTestSim, type TestSim } from '@kubectl-backup/kube-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterPool } from './ClusterPool.js';

/** The user the cluster sees for these credentials (the connection is closed afterwards). */
async function userOf(kc: KubeConfig): Promise<string> {
  const client = toClient(kc);
  try {
    return (await whoAmI(client)).username;
  } finally {
    client.close();
  }
}

describe('ClusterPool', () => {
  let sim: TestSim;

  beforeAll(async () => {
    sim = await startTestSim();
  });

  afterAll(async () => {
    await sim?.dispose();
  });

  it('connects with url, token and caData, under the configured name', async () => {
    const caData = readFileSync(sim.caPath).toString('base64');
    const pool = new ClusterPool([{ name: 'prod', url: sim.url, token: sim.tokens.dev!, caData }]);
    const kc = pool.kubeConfig(pool.clusterFor({ namespace: 'shop', cluster: 'prod' }));
    expect(clusterInfo(kc)).toMatchObject({ cluster: 'prod', server: sim.url });
    expect(await userOf(kc)).toBe('dev');
  });

  it("renames a kubeconfig's cluster to the configured name, keeping its credentials", async () => {
    const pool = new ClusterPool([
      { name: 'sim', kubeconfig: sim.kubeconfigPath, context: 'admin' },
    ]);
    const kc = pool.kubeConfig(pool.clusterFor({ namespace: 'shop' }));
    expect(clusterInfo(kc)).toMatchObject({ cluster: 'sim', context: 'sim', server: sim.url });
    expect(await userOf(kc)).toBe('admin');
  });

  it('refuses an untrusted server certificate unless skipTLSVerify', async () => {
    const untrusted = { name: 'x', url: sim.url, token: sim.tokens.admin! };
    await expect(userOf(new ClusterPool([]).kubeConfig(untrusted))).rejects.toThrow();
    const trusting = new ClusterPool([]).kubeConfig({ ...untrusted, skipTLSVerify: true });
    expect(await userOf(trusting)).toBe('admin');
  });

  it("chooses the entity's cluster, else the only one, and says why it cannot", () => {
    const one = new ClusterPool([{ name: 'a', url: 'https://a' }]);
    expect(one.clusterFor({ namespace: 'x' }).name).toBe('a');
    expect(() => one.clusterFor({ namespace: 'x', cluster: 'b' })).toThrow(
      'cluster "b" (annotation kubectl-backup.io/cluster) is not configured in backup.clusters',
    );
    const two = new ClusterPool([
      { name: 'a', url: 'https://a' },
      { name: 'b', url: 'https://b' },
    ]);
    expect(two.clusterFor({ namespace: 'x', cluster: 'b' }).name).toBe('b');
    expect(() => two.clusterFor({ namespace: 'x' })).toThrow(
      /no kubectl-backup.io\/cluster annotation and 2 clusters are configured/,
    );
    expect(() => new ClusterPool([]).clusterFor({ namespace: 'x' })).toThrow(
      'no cluster is configured (backup.clusters)',
    );
  });
});
