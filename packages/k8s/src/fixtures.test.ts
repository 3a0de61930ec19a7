/**
 * Round trip of every fixture app (test/fixtures/apps): apply with the real kubectl, wait ready,
 * back up (with volume data), delete the namespace, restore into the same namespace and into
 * another one, wait ready; objects equal after sanitising, nothing of the skip list restored.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { setIntegrationModules } from './integration.js';
import { restoreNamespace } from './restore/apply.js';
import { applyFixture, deleteNamespaceAndWait, FIXTURES, memoryRepo, restoredMismatches, startHarness, waitWorkloadsReady, type Harness } from './test-support/sim.js';

const SKIPPED_KINDS = ['Pod', 'ReplicaSet', 'Endpoints', 'EndpointSlice', 'Event', 'Lease', 'ControllerRevision'];

describe('fixture apps round trip', () => {
  let h: Harness;
  beforeAll(async () => {
    setIntegrationModules({});
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.dispose();
  });

  async function install(app: string, ns: string): Promise<void> {
    if (app !== 'descheduler-cronjob') return applyFixture(h, app, ns);
    // its manifests name kube-system: move them into the test namespace
    await h.kubectl(['create', 'namespace', ns]);
    const dir = join(FIXTURES, app);
    const yaml = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => readFileSync(join(dir, f), 'utf8').replaceAll('namespace: kube-system', `namespace: ${ns}`))
      .join('\n---\n');
    const r = await h.kubectl(['apply', '-f', '-'], yaml);
    if (r.code !== 0) throw new Error(r.stderr);
  }

  it.each(['guestbook', 'mysql-replicated', 'online-boutique', 'cassandra', 'descheduler-cronjob'])('%s', async (app) => {
    const ns = `app-${app}`.slice(0, 30);
    await install(app, ns);
    const repo = await memoryRepo();
    const { snapshot, manifest, objects, warnings } = await backupNamespace(repo, h.kubeConfig(), { namespace: ns, name: app, volumes: 'auto' });
    expect(warnings).toEqual([]);
    expect(objects.some((o) => SKIPPED_KINDS.includes(o.kind) && o.kind !== 'Pod')).toBe(false);
    for (const img of manifest.images) expect(img.digest, `${img.owner}/${img.container}`).toMatch(/^sha256:[0-9a-f]{64}$/);

    await deleteNamespaceAndWait(h.client(), ns);
    const same = await restoreNamespace(repo, h.kubeConfig(), { backup: app, waitTimeoutMs: 120_000 });
    expect(same.record?.outcome).toBe('success');
    expect(same.record?.readiness.filter((r) => !r.ready)).toEqual([]);
    expect(same.record?.items.filter((i) => i.outcome === 'failed')).toEqual([]);
    expect(same.record?.items.some((i) => SKIPPED_KINDS.includes(i.kind) || i.name === 'kube-root-ca.crt')).toBe(false);
    await waitWorkloadsReady(h.client(), ns, 120_000);
    expect(await restoredMismatches(repo, h.client(), snapshot.id, ns, ns)).toEqual([]);

    const other = `${ns}-2`.slice(0, 40);
    const copy = await restoreNamespace(repo, h.kubeConfig(), { backup: app, targetNamespace: other, waitTimeoutMs: 120_000 });
    expect(copy.record?.outcome).toBe('success');
    expect(await restoredMismatches(repo, h.client(), snapshot.id, other, ns)).toEqual([]);
    await deleteNamespaceAndWait(h.client(), other);
    await deleteNamespaceAndWait(h.client(), ns);
  });
});
