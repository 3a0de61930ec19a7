/** Cluster credentials from config (url + token + caData, or a kubeconfig) reach kube-sim as configured. */
import { readFileSync } from 'node:fs';
import { clusterInfo, toClient, whoAmI } from '@kubectl-backup/k8s';
import { startTestSim, type TestSim } from '@kubectl-backup/kube-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterPool } from './ClusterPool.js';

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
    const client = toClient(kc);
    try {
      expect((await whoAmI(client)).username).toBe('dev');
    } finally {
      client.close();
    }
  });

  it("renames a kubeconfig's cluster to the configured name, keeping its credentials", async () => {
    const pool = new ClusterPool([
      { name: 'sim', kubeconfig: sim.kubeconfigPath, context: 'admin' },
    ]);
    const kc = pool.kubeConfig(pool.clusterFor({ namespace: 'shop' }));
    expect(clusterInfo(kc)).toMatchObject({ cluster: 'sim', context: 'sim', server: sim.url });
    const client = toClient(kc);
    try {
      expect((await whoAmI(client)).username).toBe('admin');
    } finally {
      client.close();
    }
  });

  it('refuses an untrusted server certificate unless skipTLSVerify', async () => {
    const client = toClient(
      new ClusterPool([]).kubeConfig({ name: 'x', url: sim.url, token: sim.tokens.admin! }),
    );
    try {
      await expect(whoAmI(client)).rejects.toThrow();
    } finally {
      client.close();
    }
    const trusting = toClient(
      new ClusterPool([]).kubeConfig({
        name: 'x',
        url: sim.url,
        token: sim.tokens.admin!,
        skipTLSVerify: true,
      }),
    );
    try {
      expect((await whoAmI(trusting)).username).toBe('admin');
    } finally {
      trusting.close();
    }
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
