/**
 * End to end with the real volume module: a StatefulSet app (mysql-replicated) applied with the
 * real kubectl, data written into its PVCs through `kubectl exec`, backup with volume data,
 * namespace deleted, restore into the same and another namespace, data read back.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { restoreNamespace } from './restore/apply.js';
import { setIntegrationModules } from './integration.js';
import { applyFixture, deleteNamespaceAndWait, memoryRepo, startHarness, waitWorkloadsReady, type Harness } from './test-support/sim.js';

describe('namespace round trip with volume data', () => {
  let h: Harness;
  beforeAll(async () => {
    setIntegrationModules({});
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function exec(ns: string, pod: string, script: string, input?: string): Promise<string> {
    const r = await h.kubectl(['exec', ...(input !== undefined ? ['-i'] : []), '-n', ns, pod, '-c', 'mysql', '--', 'sh', '-c', script], input);
    if (r.code !== 0) throw new Error(`kubectl exec ${pod}: ${r.stderr}`);
    return r.stdout;
  }

  it.each(['fs', 'auto'] as const)('mysql-replicated, volumes %s: PVC data byte-identical after delete + restore', async (mode) => {
    const ns = `db-${mode}`;
    await applyFixture(h, 'mysql-replicated', ns);
    for (const i of [0, 1]) {
      await exec(ns, `mysql-${i}`, `echo "row of mysql-${i} ${mode}" > /var/lib/mysql/probe.txt`);
      await exec(ns, `mysql-${i}`, 'cat > /var/lib/mysql/blob.bin', randomBytes(150_000).toString('base64'));
    }
    const sums = await exec(ns, 'mysql-0', 'sha256sum /var/lib/mysql/blob.bin');
    const repo = await memoryRepo();
    const { manifest, warnings } = await backupNamespace(repo, h.kubeConfig(), { namespace: ns, name: `db-${mode}`, volumes: mode });
    expect(warnings).toEqual([]);
    expect(manifest.volumes.map((v) => v.pvc).sort()).toEqual(['data-mysql-0', 'data-mysql-1', 'data-mysql-2']);
    for (const v of manifest.volumes) {
      expect(v.method).toBe(mode === 'fs' ? 'fs' : 'snapshot');
      expect(v.bytes).toBeGreaterThan(0);
    }

    await deleteNamespaceAndWait(h.client(), ns);
    const same = await restoreNamespace(repo, h.kubeConfig(), { backup: `db-${mode}`, waitTimeoutMs: 90_000 });
    expect(same.record?.outcome).toBe('success');
    expect(same.record?.volumes.map((v) => [v.pvc, v.outcome]).sort()).toEqual([
      ['data-mysql-0', 'restored'],
      ['data-mysql-1', 'restored'],
      ['data-mysql-2', 'restored'],
    ]);
    await waitWorkloadsReady(h.client(), ns, 90_000);
    expect(await exec(ns, 'mysql-1', 'cat /var/lib/mysql/probe.txt')).toBe(`row of mysql-1 ${mode}\n`);
    expect(await exec(ns, 'mysql-0', 'sha256sum /var/lib/mysql/blob.bin')).toBe(sums);

    const other = await restoreNamespace(repo, h.kubeConfig(), { backup: `db-${mode}`, targetNamespace: `${ns}-copy`, waitTimeoutMs: 90_000 });
    expect(other.record?.outcome).toBe('success');
    await waitWorkloadsReady(h.client(), `${ns}-copy`, 90_000);
    expect(await exec(`${ns}-copy`, 'mysql-0', 'cat /var/lib/mysql/probe.txt')).toBe(`row of mysql-0 ${mode}\n`);
  });
});
