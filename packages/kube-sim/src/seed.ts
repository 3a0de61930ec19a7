/**
 * Seeding: applies every manifest under a folder (`*.yaml`, `*.yml`, `*.json`, multi-document,
 * `kind: List` too) the way `kubectl apply -f DIR --recursive` would: namespaced objects without
 * a namespace go to the default namespace, CRDs and Namespaces first, existing objects are
 * updated. Missing namespaces are created (kubectl would fail instead). Kustomize files are skipped.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './store-api.js';
import type { Store } from './store/store.js';

export interface SeedResult {
  applied: Array<{ file: string; kind: string; namespace?: string; name: string; action: 'created' | 'configured' }>;
  skipped: Array<{ file: string; reason: string }>;
}

function manifestFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...manifestFiles(p));
    else if (/\.(ya?ml|json)$/.test(entry)) out.push(p);
  }
  return out;
}

/** Parses the Kubernetes objects of one manifest file. */
export function readManifests(file: string): KubeObject[] {
  const text = readFileSync(file, 'utf8');
  const docs = file.endsWith('.json') ? [JSON.parse(text)] : parseAllDocuments(text).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJSON();
  });
  const out: KubeObject[] = [];
  for (const d of docs) {
    if (!d || typeof d !== 'object') continue;
    if (d.kind === 'List' && Array.isArray(d.items)) out.push(...d.items);
    else out.push(d as KubeObject);
  }
  return out;
}

function rank(o: KubeObject): number {
  if (o.kind === 'CustomResourceDefinition') return 0;
  if (o.kind === 'Namespace') return 1;
  return 2;
}

export function seedDirectory(store: Store, dir: string, options: { namespace?: string; fieldManager?: string } = {}): SeedResult {
  const result: SeedResult = { applied: [], skipped: [] };
  const defaultNs = options.namespace ?? 'default';
  const items: Array<{ file: string; obj: KubeObject }> = [];
  for (const file of manifestFiles(dir)) {
    if (/^kustomization\.ya?ml$/.test(basename(file))) {
      result.skipped.push({ file, reason: 'kustomize file' });
      continue;
    }
    for (const obj of readManifests(file)) items.push({ file, obj });
  }
  items.sort((a, b) => rank(a.obj) - rank(b.obj));
  for (const { file, obj } of items) {
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
      result.skipped.push({ file, reason: `not a Kubernetes object (kind ${obj.kind ?? '?'})` });
      continue;
    }
    const info = store.registry.byKind(obj.apiVersion, obj.kind);
    if (!info) throw new Error(`${file}: no resource type for ${obj.apiVersion} ${obj.kind} (is its CRD installed?)`);
    const type = { group: info.group, version: info.version, resource: info.resource };
    const ns = info.namespaced ? (obj.metadata.namespace ?? defaultNs) : undefined;
    if (ns && !store.peek({ group: '', version: 'v1', resource: 'namespaces' }, undefined, ns)) {
      store.create({ group: '', version: 'v1', resource: 'namespaces' }, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    const opts = { fieldManager: options.fieldManager ?? 'kube-sim-seed' };
    const existing = store.peek(type, ns, obj.metadata.name);
    if (existing) {
      store.update(type, ns, { ...obj, metadata: { ...obj.metadata, namespace: ns, resourceVersion: existing.metadata.resourceVersion } }, opts);
      result.applied.push({ file, kind: obj.kind, namespace: ns, name: obj.metadata.name, action: 'configured' });
    } else {
      store.create(type, ns, { ...obj, metadata: { ...obj.metadata, namespace: ns } }, opts);
      result.applied.push({ file, kind: obj.kind, namespace: ns, name: obj.metadata.name, action: 'created' });
    }
  }
  return result;
}
