/**
 * The resource registry: which groups, versions and resources kube-sim serves. Built from real
 * discovery documents (data/discovery, copied from kubernetes/kubernetes) plus groups added by
 * CustomResourceDefinitions at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject, ResourceType } from '../store-api.js';

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  group?: string;
  version?: string;
  storageVersionHash?: string;
}

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** Subresource name → its discovery entry (kind and verbs). */
  subresources: Map<string, APIResource>;
  /** True for resources defined by a CustomResourceDefinition. */
  custom: boolean;
  /** For custom resources: additionalPrinterColumns of this version. */
  printerColumns?: Array<{ name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }>;
}

interface GroupVersionDoc {
  groupVersion: string;
  resources: APIResource[];
}

interface GroupEntry {
  name: string;
  versions: string[];
  preferred: string;
  custom: boolean;
}

/** Root of the package's data folder (works from src/ and dist/). */
export function defaultDataRoot(): string {
  return fileURLToPath(new URL('../../data/', import.meta.url));
}

export function gvrKey(group: string, version: string, resource: string): string {
  return `${group}/${version}/${resource}`;
}

export class Registry {
  private readonly groups = new Map<string, GroupEntry>();
  private readonly groupOrder: string[] = [];
  /** group/version → resource list document */
  private readonly gvDocs = new Map<string, GroupVersionDoc>();
  private readonly byGVR = new Map<string, ResourceInfo>();
  private readonly byGVK = new Map<string, ResourceInfo>();

  constructor(dataRoot = defaultDataRoot()) {
    const dir = join(dataRoot, 'discovery');
    const apis = JSON.parse(readFileSync(join(dir, 'apis.json'), 'utf8')) as { groups: Array<{ name: string }> };
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const groupDocs = new Map<string, { versions: Array<{ version: string }>; preferredVersion: { version: string } }>();
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
      if (doc.kind === 'APIGroup') groupDocs.set(doc.name, doc);
      else if (doc.kind === 'APIResourceList' || doc.resources) this.gvDocs.set(doc.groupVersion, doc);
    }
    this.addGroup('', ['v1'], 'v1', false);
    const ordered = [
      ...apis.groups.map((g) => g.name).filter((n) => groupDocs.has(n)),
      ...[...groupDocs.keys()].filter((n) => !apis.groups.some((g) => g.name === n)).sort(),
    ];
    for (const name of ordered) {
      const doc = groupDocs.get(name)!;
      const versions = doc.versions.map((v) => v.version).filter((v) => this.gvDocs.has(`${name}/${v}`));
      if (versions.length === 0) continue;
      const preferred = versions.includes(doc.preferredVersion.version) ? doc.preferredVersion.version : versions[0];
      this.addGroup(name, versions, preferred, false);
    }
    for (const [gv, doc] of this.gvDocs) this.indexDoc(gv, doc, false);
  }

  private addGroup(name: string, versions: string[], preferred: string, custom: boolean): void {
    if (!this.groups.has(name)) this.groupOrder.push(name);
    this.groups.set(name, { name, versions, preferred, custom });
  }

  private indexDoc(gv: string, doc: GroupVersionDoc, custom: boolean): void {
    const [group, version] = gv.includes('/') ? gv.split('/') : ['', gv];
    for (const r of doc.resources) {
      if (r.name.includes('/')) continue;
      const info: ResourceInfo = {
        group,
        version,
        resource: r.name,
        kind: r.kind,
        listKind: `${r.kind}List`,
        singular: r.singularName || r.kind.toLowerCase(),
        namespaced: r.namespaced,
        verbs: r.verbs,
        shortNames: r.shortNames ?? [],
        subresources: new Map(),
        custom,
      };
      this.byGVR.set(gvrKey(group, version, r.name), info);
      this.byGVK.set(`${group}/${version}/${r.kind}`, info);
    }
    for (const r of doc.resources) {
      if (!r.name.includes('/')) continue;
      const [parent, sub] = r.name.split('/');
      this.byGVR.get(gvrKey(group, version, parent))?.subresources.set(sub, r);
    }
  }

  /** The versions of a group in discovery order (core group: ''). */
  group(name: string): GroupEntry | undefined {
    return this.groups.get(name);
  }

  groupNames(): string[] {
    return this.groupOrder.filter((g) => g !== '' && this.groups.has(g));
  }

  resourceList(group: string, version: string): GroupVersionDoc | undefined {
    return this.gvDocs.get(group ? `${group}/${version}` : version);
  }

  get(type: ResourceType): ResourceInfo | undefined {
    return this.byGVR.get(gvrKey(type.group, type.version, type.resource));
  }

  /** Any served version of group/resource (storage is version-independent). */
  getAnyVersion(group: string, resource: string): ResourceInfo | undefined {
    const g = this.groups.get(group);
    if (!g) return undefined;
    for (const v of [g.preferred, ...g.versions]) {
      const info = this.byGVR.get(gvrKey(group, v, resource));
      if (info) return info;
    }
    return undefined;
  }

  byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    return this.byGVK.get(`${group}/${version}/${kind}`);
  }

  all(): ResourceInfo[] {
    return [...this.byGVR.values()];
  }

  /** Every group/version with its path key as used by /openapi/v3 ("api/v1", "apis/apps/v1"). */
  groupVersions(): Array<{ group: string; version: string }> {
    const out: Array<{ group: string; version: string }> = [];
    for (const name of this.groupOrder) {
      const g = this.groups.get(name);
      if (g) for (const v of g.versions) out.push({ group: name, version: v });
    }
    return out;
  }

  /** Adds (or replaces) the resources defined by a CustomResourceDefinition. */
  addCRD(crd: KubeObject): void {
    const spec = crd.spec as {
      group: string;
      scope: string;
      names: { plural: string; singular?: string; kind: string; listKind?: string; shortNames?: string[]; categories?: string[] };
      versions: Array<{
        name: string;
        served: boolean;
        storage?: boolean;
        subresources?: { status?: unknown; scale?: unknown };
        additionalPrinterColumns?: ResourceInfo['printerColumns'];
      }>;
    };
    this.removeCRD(crd);
    const served = spec.versions.filter((v) => v.served);
    if (served.length === 0) return;
    const storage = served.find((v) => v.storage) ?? served[0];
    const existing = this.groups.get(spec.group);
    const versions = [...new Set([...(existing?.versions ?? []), ...served.map((v) => v.name)])];
    this.addGroup(spec.group, versions, existing && !existing.custom ? existing.preferred : storage.name, existing ? existing.custom : true);
    for (const v of served) {
      const gv = `${spec.group}/${v.name}`;
      const doc = this.gvDocs.get(gv) ?? { groupVersion: gv, resources: [] };
      const base: APIResource = {
        name: spec.names.plural,
        singularName: spec.names.singular ?? spec.names.kind.toLowerCase(),
        namespaced: spec.scope === 'Namespaced',
        kind: spec.names.kind,
        verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'],
        ...(spec.names.shortNames ? { shortNames: spec.names.shortNames } : {}),
        ...(spec.names.categories ? { categories: spec.names.categories } : {}),
        storageVersionHash: Buffer.from(`${gv}/${spec.names.plural}`).toString('base64').slice(0, 12),
      };
      doc.resources = doc.resources.filter((r) => r.name !== base.name && !r.name.startsWith(`${base.name}/`));
      doc.resources.push(base);
      if (v.subresources?.status) {
        doc.resources.push({ name: `${base.name}/status`, singularName: '', namespaced: base.namespaced, kind: base.kind, verbs: ['get', 'patch', 'update'] });
      }
      if (v.subresources?.scale) {
        doc.resources.push({ name: `${base.name}/scale`, singularName: '', namespaced: base.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      }
      this.gvDocs.set(gv, doc);
      this.indexDoc(gv, { groupVersion: gv, resources: doc.resources.filter((r) => r.name === base.name || r.name.startsWith(`${base.name}/`)) }, true);
      const info = this.byGVR.get(gvrKey(spec.group, v.name, base.name))!;
      if (spec.names.listKind) info.listKind = spec.names.listKind;
      info.printerColumns = v.additionalPrinterColumns;
    }
  }

  removeCRD(crd: KubeObject): void {
    const spec = crd.spec as { group: string; names: { plural: string; kind: string } };
    const g = this.groups.get(spec.group);
    if (!g) return;
    for (const v of g.versions) {
      const gv = `${spec.group}/${v}`;
      const doc = this.gvDocs.get(gv);
      if (!doc) continue;
      const info = this.byGVR.get(gvrKey(spec.group, v, spec.names.plural));
      if (!info?.custom) continue;
      doc.resources = doc.resources.filter((r) => r.name !== spec.names.plural && !r.name.startsWith(`${spec.names.plural}/`));
      this.byGVR.delete(gvrKey(spec.group, v, spec.names.plural));
      this.byGVK.delete(`${spec.group}/${v}/${info.kind}`);
      if (doc.resources.length === 0) {
        this.gvDocs.delete(gv);
        g.versions = g.versions.filter((x) => x !== v);
      }
    }
    if (g.versions.length === 0) {
      this.groups.delete(spec.group);
      const i = this.groupOrder.indexOf(spec.group);
      if (i >= 0) this.groupOrder.splice(i, 1);
    } else if (!g.versions.includes(g.preferred)) {
      g.preferred = g.versions[0];
    }
  }
}

/** Aggregated discovery (`apidiscovery.k8s.io` APIGroupDiscovery) of one group ('' = core). */
export function aggregatedGroup(registry: Registry, name: string): Record<string, unknown> | undefined {
  const g = registry.group(name);
  if (!g) return undefined;
  const versions = [g.preferred, ...g.versions.filter((v) => v !== g.preferred)];
  return {
    metadata: { name, creationTimestamp: null },
    versions: versions.flatMap((version) => {
      const doc = registry.resourceList(name, version);
      if (!doc) return [];
      const subs = new Map<string, APIResource[]>();
      for (const r of doc.resources) {
        if (!r.name.includes('/')) continue;
        const parent = r.name.split('/')[0];
        subs.set(parent, [...(subs.get(parent) ?? []), r]);
      }
      const resources = doc.resources
        .filter((r) => !r.name.includes('/'))
        .map((r) => ({
          resource: r.name,
          responseKind: { group: name, version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singularName || r.kind.toLowerCase(),
          verbs: r.verbs,
          ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories?.length ? { categories: r.categories } : {}),
          ...(subs.has(r.name)
            ? {
                subresources: subs.get(r.name)!.map((sr) => ({
                  subresource: sr.name.split('/')[1],
                  responseKind: { group: sr.group ?? name, version: sr.version ?? version, kind: sr.kind },
                  verbs: sr.verbs,
                })),
              }
            : {}),
        }));
      return [{ version, resources, freshness: 'Current' }];
    }),
  };
}
