import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient, ResourceLocation } from '../client.js';
import { startHarness, type Harness } from '../test-support/sim.js';
import type { KubeObject } from '../types.js';
import type { PlanItem } from './plan.js';
import { waitReady } from './wait.js';

const NS = 'waiting';
const DEPLOY: ResourceLocation = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true };
const NAMESPACES: ResourceLocation = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };

function deployment(name: string, replicas: number): KubeObject {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] } } },
  };
}

function item(name: string): PlanItem {
  return {
    stage: 'workloads',
    path: '',
    ref: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: NS, name },
    location: DEPLOY,
    object: deployment(name, 1),
    action: 'create',
    exists: false,
  };
}

let h: Harness;
let client: KubeClient;

beforeAll(async () => {
  h = await startHarness();
  client = h.client();
  await client.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  for (const [name, replicas] of [['web', 2], ['api', 1], ['idle', 0]] as const) await client.create(DEPLOY, NS, deployment(name, replicas));
}, 60_000);

afterAll(async () => {
  h.sim.failures.clear();
  await h?.dispose();
});

describe('waitReady', () => {
  it('polls with one list per type (no GET per object) and reports what never became ready', async () => {
    // a GET of a single Deployment would fail: the wait must not need one
    h.sim.failures.add({ verb: 'get', resource: 'deployments.apps', namespace: NS, status: 500 });
    try {
      const results = await waitReady(client, [item('web'), item('api'), item('idle')], { timeoutMs: 60_000, intervalMs: 100 });
      expect(results.map((r) => `${r.name}:${String(r.ready)}`).sort()).toEqual(['api:true', 'idle:true', 'web:true']);
      const live = await client.listAll(DEPLOY, NS);
      expect(live.find((d) => d.metadata.name === 'web')?.status).toMatchObject({ availableReplicas: 2 });

      const missing = await waitReady(client, [item('ghost')], { timeoutMs: 1_000, intervalMs: 100 });
      expect(missing).toEqual([{ kind: 'Deployment', name: 'ghost', ready: false, message: 'not ready after 1 s: not found' }]);
    } finally {
      h.sim.failures.clear();
    }
  });

  it('falls back to a GET per object where listing is forbidden', async () => {
    h.sim.failures.add({ verb: 'list', resource: 'deployments.apps', namespace: NS, status: 403 });
    try {
      const results = await waitReady(client, [item('web'), item('api')], { timeoutMs: 60_000, intervalMs: 100 });
      expect(results.map((r) => `${r.name}:${String(r.ready)}`).sort()).toEqual(['api:true', 'web:true']);
      const missing = await waitReady(client, [item('ghost')], { timeoutMs: 1_000, intervalMs: 100 });
      expect(missing).toEqual([{ kind: 'Deployment', name: 'ghost', ready: false, message: 'not ready after 1 s: not found' }]);
    } finally {
      h.sim.failures.clear();
    }
  });
});
