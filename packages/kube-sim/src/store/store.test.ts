import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../discovery/registry.js';
import { Store } from './store.js';

const CM = { group: '', version: 'v1', resource: 'configmaps' };
const NS = { group: '', version: 'v1', resource: 'namespaces' };

describe('Store persistence', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('replays the journal, compacts long journals, and keeps resourceVersions monotonic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sim-store-'));
    dirs.push(dir);
    const registry = new Registry();
    const a = new Store(registry, dir, 10);
    a.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    for (let i = 0; i < 30; i++) a.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` }, data: { i: String(i) } });
    a.delete(CM, 'n', 'c0');
    // let the debounced journal writes (and the compaction they trigger) happen
    for (let i = 0; i < 200 && !existsSync(join(dir, 'state.json')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, 'state.json'))).toBe(true);
    const lastRv = Number(a.currentResourceVersion());
    a.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    await a.close();
    const b = new Store(registry, dir);
    expect(b.load()).toBe(true);
    expect(b.list(CM, 'n').map((c) => c.metadata.name).sort()).toEqual([...Array.from({ length: 29 }, (_, i) => `c${i + 1}`), 'late'].sort());
    expect(Number(b.currentResourceVersion())).toBeGreaterThan(lastRv);
    const next = b.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } });
    expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(b.get(CM, 'n', 'late')!.metadata.resourceVersion));
  });
});

describe('Store watch history', () => {
  it('keeps exactly the last N events for watches that resume from a resourceVersion', () => {
    const store = new Store(new Registry(), undefined, undefined, 5);
    store.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
    // enough writes to drop old events several times over
    for (let i = 0; i < 23; i++) store.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } });
    const rv = Number(store.currentResourceVersion());
    expect(store.eventsSince(rv)).toEqual([]);
    const last = store.eventsSince(rv - 5)!;
    expect(last.map((e) => e.rv)).toEqual([rv - 4, rv - 3, rv - 2, rv - 1, rv]);
    expect(last.map((e) => e.obj.metadata.name)).toEqual(['c18', 'c19', 'c20', 'c21', 'c22']);
    expect(store.eventsSince(rv - 2)!.map((e) => e.rv)).toEqual([rv - 1, rv]);
    // one further back is gone: the watch gets 410 Expired
    expect(store.eventsSince(rv - 6)).toBeUndefined();
  });
});
