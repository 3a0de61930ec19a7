import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

describe('Store journal', () => {
  it('writes the last version of each object once per flush, and replays to the same state after a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kube-sim-journal-'));
    try {
      const registry = new Registry();
      const a = new Store(registry, dir);
      const ns = a.create(NS, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n' } });
      let cm = a.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'edited' }, data: { v: '0' } });
      for (let i = 1; i <= 3; i++) cm = a.update(CM, 'n', { ...cm, data: { v: String(i) } });
      a.create(CM, 'n', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone' } });
      a.delete(CM, 'n', 'gone');
      // written first and last: its line goes where its last write is
      a.update(NS, undefined, { ...ns, metadata: { ...ns.metadata, labels: { touched: 'yes' } } });
      // the debounced append: wait until it is complete (the file exists before its lines are in)
      const journal = join(dir, 'journal.ndjson');
      const text = () => (existsSync(journal) ? readFileSync(journal, 'utf8') : '');
      for (let i = 0; i < 400 && text().split('\n').length < 4; i++) await new Promise((r) => setTimeout(r, 20));
      const lines = text().trim().split('\n').map((l) => JSON.parse(l) as { rv: number; k: string; o?: { data?: unknown } });
      expect(lines.map((l) => l.k).sort()).toEqual(['n', 'n/edited', 'n/gone']);
      expect(lines.find((l) => l.k === 'n/edited')!.o!.data).toEqual({ v: '3' });
      expect(lines.find((l) => l.k === 'n/gone')!.o).toBeUndefined();
      // in write order, so a journal cut short by a crash is a prefix of history
      expect(lines.map((l) => l.rv)).toEqual(lines.map((l) => l.rv).sort((x, y) => x - y));
      expect(lines.at(-1)!.k).toBe('n');
      // a second store reads the journal as it is (the first never closed: a crash)
      const b = new Store(registry, dir);
      expect(b.load()).toBe(true);
      expect(b.get(CM, 'n', 'edited')!.data).toEqual({ v: '3' });
      expect(b.get(CM, 'n', 'gone')).toBeUndefined();
      expect(b.currentResourceVersion()).toBe(a.currentResourceVersion());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
