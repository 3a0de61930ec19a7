import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../store-api.js';
import { Registry } from '../discovery/registry.js';
import { ApiError } from './errors.js';
import { KUBERNETES_SERVICE_IP, NODE_PORT_MAX, NODE_PORT_MIN, defaultHooks } from './defaults.js';
import { Store } from './store.js';

const NS = { group: '', version: 'v1', resource: 'namespaces' };
const SVC = { group: '', version: 'v1', resource: 'services' };

function storeWithDefaults(): Store {
  const store = new Store(new Registry());
  store.hooks.push(defaultHooks({ caCert: 'ca' }));
  store.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
  return store;
}

const service = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ port: 80 }], ...spec },
});
const ipOf = (s: KubeObject) => (s.spec as { clusterIP: string }).clusterIP;
const nodePortOf = (s: KubeObject) =>
  (s.spec as { ports: Array<{ nodePort: number }> }).ports[0]!.nodePort;

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.code} ${err.message}`;
    throw err;
  }
  throw new Error('expected the API to refuse');
}

describe('Service cluster IPs and node ports', () => {
  it('allocates distinct cluster IPs and node ports, refuses taken ones, and frees them on deletion', () => {
    const store = storeWithDefaults();
    const many = Array.from({ length: 300 }, (_, i) =>
      store.create(SVC, 'n', service(`s${i}`, { type: 'NodePort' })),
    );
    expect(new Set(many.map(ipOf)).size).toBe(300);
    expect(many.map(ipOf)).not.toContain(KUBERNETES_SERVICE_IP);
    expect(many.every((s) => /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/.test(ipOf(s)))).toBe(true);
    expect(new Set(many.map(nodePortOf)).size).toBe(300);
    expect(
      many.every((s) => nodePortOf(s) >= NODE_PORT_MIN && nodePortOf(s) <= NODE_PORT_MAX),
    ).toBe(true);

    const ip = ipOf(many[0]!);
    const port = nodePortOf(many[0]!);
    expect(refusal(() => store.create(SVC, 'n', service('same-ip', { clusterIP: ip })))).toBe(
      `422 Service "same-ip" is invalid: spec.clusterIPs: Invalid value: []string{"${ip}"}: failed to allocate IP ${ip}: provided IP is already allocated`,
    );
    expect(
      refusal(() =>
        store.create(SVC, 'n', service('kube-ip', { clusterIP: KUBERNETES_SERVICE_IP })),
      ),
    ).toContain('provided IP is already allocated');
    expect(
      refusal(() =>
        store.create(
          SVC,
          'n',
          service('same-port', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
        ),
      ),
    ).toContain(`Invalid value: ${port}: provided port is already allocated`);
    // a dry run allocates nothing (random IPs start below 10.96.235.0: this one is free)
    const dry = store.create(SVC, 'n', service('dry', { clusterIP: '10.100.0.1' }), {
      dryRun: true,
    });
    expect(ipOf(dry)).toBe('10.100.0.1');
    expect(ipOf(store.create(SVC, 'n', service('after-dry', { clusterIP: '10.100.0.1' })))).toBe(
      '10.100.0.1',
    );

    store.delete(SVC, 'n', 's0');
    const reuse = store.create(
      SVC,
      'n',
      service('reuse', { clusterIP: ip, type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
    );
    expect([ipOf(reuse), nodePortOf(reuse)]).toEqual([ip, port]);
  });

  it('lets an update keep its own IP and node port, and frees a node port the update drops', () => {
    const store = storeWithDefaults();
    const a = store.create(SVC, 'n', service('a', { type: 'NodePort' }));
    const updated = store.update(SVC, 'n', {
      ...a,
      metadata: { ...a.metadata, labels: { x: 'y' } },
    });
    expect([ipOf(updated), nodePortOf(updated)]).toEqual([ipOf(a), nodePortOf(a)]);
    // another Service may not take it, even through an update
    const b = store.create(SVC, 'n', service('b', { type: 'NodePort' }));
    const bPorts = [{ port: 80, nodePort: nodePortOf(a) }];
    expect(
      refusal(() =>
        store.update(SVC, 'n', { ...b, spec: { ...(b.spec as object), ports: bPorts } }),
      ),
    ).toContain('provided port is already allocated');
    // a ClusterIP Service has no node port: a's port is free again
    store.update(SVC, 'n', {
      ...updated,
      spec: { ...(updated.spec as object), type: 'ClusterIP' },
    });
    const moved = store.update(SVC, 'n', { ...b, spec: { ...(b.spec as object), ports: bPorts } });
    expect(nodePortOf(moved)).toBe(nodePortOf(a));
  });
});
