import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim } from './testing.js';

const APPS = fileURLToPath(new URL('../../../test/fixtures/apps/', import.meta.url));

describe('seedDirectory', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startTestSim();
  });
  afterAll(async () => {
    await sim?.dispose();
  });

  it('applies every app, namespacing objects as kubectl would', async () => {
    for (const app of readdirSync(APPS)) {
      const result = sim.seed(join(APPS, app), app);
      expect(result.applied.length).toBeGreaterThan(0);
      if (app === 'online-boutique') expect(result.skipped.map((s) => s.reason)).toContain('kustomize file');
    }
    const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
    expect(sim.store.get(deployments, 'guestbook', 'frontend')).toBeDefined();
    expect(sim.store.get(deployments, 'online-boutique', 'frontend')).toBeDefined();
    // manifests that name their namespace keep it
    expect(sim.store.get({ group: 'batch', version: 'v1', resource: 'cronjobs' }, 'kube-system', 'descheduler-cronjob')).toBeDefined();
    // cluster-scoped objects get no namespace
    const fast = sim.store.get({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' }, undefined, 'fast');
    expect(fast?.metadata.namespace).toBeUndefined();
    // seeding again updates instead of failing
    const again = sim.seed(join(APPS, 'guestbook'), 'guestbook');
    expect(again.applied.every((a) => a.action === 'configured')).toBe(true);
    const out = await sim.kubectl(['get', 'deployments', '-n', 'guestbook', '-o', 'name']);
    expect(out.stdout).toContain('deployment.apps/redis-master');
  });
});
