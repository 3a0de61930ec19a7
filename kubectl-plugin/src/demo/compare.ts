/**
 * Compares a restored namespace with its original: the inventory of objects (kind and name of
 * the types a person looks at) and the bytes of every PVC (each volume read through a read-only
 * mover pod and hashed file by file, SHA-256, on both sides).
 */
import {
  compareManifests,
  readVolumeManifest,
  type Connection,
  type ResourceLocation,
} from '@kubectl-backup/k8s';
import { formatBytes } from '../output/format.js';
import { say } from './say.js';

const core = (resource: string): ResourceLocation => ({
  group: '',
  version: 'v1',
  resource,
  namespaced: true,
});
const apps = (resource: string): ResourceLocation => ({ ...core(resource), group: 'apps' });

/** Pods and ReplicaSets are left out: their names are generated, the workloads make them. */
const TYPES = [
  apps('deployments'),
  apps('statefulsets'),
  apps('daemonsets'),
  core('services'),
  core('configmaps'),
  core('secrets'),
  core('serviceaccounts'),
  core('persistentvolumeclaims'),
];

async function inventory(conn: Connection, namespace: string, signal: AbortSignal) {
  const names: string[] = [];
  for (const t of TYPES)
    for (const o of await conn.client.listAll(t, namespace, { signal }))
      names.push(`${o.kind}/${o.metadata?.name ?? ''}`);
  return names.sort();
}

function byKind(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) {
    const kind = n.slice(0, n.indexOf('/'));
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}

/** Prints the comparison; resolves to true when both namespaces match. */
export async function compareNamespaces(
  conn: Connection,
  source: string,
  target: string,
  signal: AbortSignal,
): Promise<boolean> {
  const [before, after] = [
    await inventory(conn, source, signal),
    await inventory(conn, target, signal),
  ];
  const missing = before.filter((n) => !after.includes(n));
  const extra = after.filter((n) => !before.includes(n));
  say(`objects: ${before.length} in ${source}, ${after.length} in ${target} (${byKind(before)})`);
  for (const m of missing) say(`  missing in ${target}: ${m}`);
  for (const x of extra) say(`  only in ${target}: ${x}`);
  let same = missing.length === 0 && extra.length === 0;
  if (same) say(`  same kinds and names`);

  const pvcs = before.filter((n) => n.startsWith('PersistentVolumeClaim/'));
  for (const pvc of pvcs.map((n) => n.slice(n.indexOf('/') + 1))) {
    const [want, have] = await Promise.all(
      [source, target].map((ns) => readVolumeManifest(conn.kc, ns, pvc, { signal })),
    );
    const diffs = compareManifests(want!, have!);
    say(
      `volume ${pvc}: ${want!.files} files, ${formatBytes(want!.bytes)}${diffs.length ? '' : ' — identical (SHA-256 of every file, modes)'}`,
    );
    for (const d of diffs) say(`  ${d}`);
    same &&= diffs.length === 0;
  }
  return same;
}
