// A real backup repository for the ingest benchmark, written as the product writes it (not timed).
// kube-sim gets NAMESPACES small namespaces (a ConfigMap, a Secret, a Deployment each, created by
// one `kubectl apply`); each namespace's first backup is the k8s library's backupNamespace (so
// the resource documents, the manifest, the log and the tags are the product's own). The further
// backups repeat one: the engine's backup() with that backup's documents, its manifest and log
// under the new name and times, the same tags (kind, namespace, name, cluster, schedule), and
// the audit entry backupNamespace appends. backupNamespace itself lists every snapshot to check
// the name is new, so 10,000 of them would take over half an hour; the repeats skip that check
// and the capture, nothing the ingest reads. One repository session; the repository uses the
// engine's default key derivation, as `kubectl backup init` does. appendAudit lists every audit
// key to find the newest (a walk and a stat per entry, so 10,000 appends stat 50 million
// files): this session's storage answers that listing from the keys it wrote itself (it is the
// only writer); what is written is unchanged.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendAudit,
  AUDIT_PREFIX,
  backup,
  LocalStorage,
  readDocuments,
  Repository,
} from '@kubectl-backup/engine';
import { backupNamespace, loadKubeConfig, LOG_DOC, MANIFEST_DOC } from '@kubectl-backup/k8s';
import { startTestSim } from '@kubectl-backup/kube-sim';

export const PASSWORD = 'bench-password';
const ACTOR = 'backstage:schedule/nightly';

/** LocalStorage whose audit listing comes from the keys it wrote (a fresh repository). */
class SessionStorage extends LocalStorage {
  #audit = new Map();

  async put(key, data) {
    await super.put(key, data);
    if (key.startsWith(AUDIT_PREFIX)) this.#audit.set(key, data.length);
  }

  async *list(prefix) {
    if (prefix !== AUDIT_PREFIX) return yield* super.list(prefix);
    for (const [key, size] of this.#audit) yield { key, size };
  }
}

const ns = (i) => `app-${String(i).padStart(3, '0')}`;

function namespacesYaml(count) {
  const docs = [];
  for (let i = 0; i < count; i++) {
    const n = ns(i);
    docs.push(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ${n}}\ndata: {color: blue, index: "${i}"}`,
      `apiVersion: v1\nkind: Secret\nmetadata: {name: token, namespace: ${n}}\nstringData: {token: s3cr3t-${i}}`,
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ${n}}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: "nginx:1.27"}]}`,
    );
  }
  return docs.join('\n---\n');
}

/** One namespace's first backup, by the library, and what its repeats reuse. */
async function template(repo, kc, namespace) {
  const name = `${namespace}-0`;
  const r = await backupNamespace(repo, kc, {
    namespace,
    name,
    volumes: 'none',
    actor: ACTOR,
    tags: ['schedule=nightly'],
  });
  const documents = [];
  let log = '';
  for await (const { item, data } of readDocuments(repo, r.snapshot)) {
    if (item.name === LOG_DOC) log = data.toString('utf8');
    else if (item.name !== MANIFEST_DOC)
      documents.push({ name: item.name, data, mediaType: item.mediaType });
  }
  return { namespace, name, manifest: r.manifest, tags: r.snapshot.tags, documents, log };
}

/** A repeat of template `t` named `name`, started at `started`: snapshot and audit entry. */
async function repeat(repo, t, name, started) {
  const { durationMs } = t.manifest;
  const manifest = {
    ...t.manifest,
    name,
    started: started.toISOString(),
    finished: new Date(started.getTime() + durationMs).toISOString(),
    durationMs,
  };
  const rename = (s) => s.split(t.name).join(name);
  const snapshot = await backup(
    repo,
    {
      documents: [
        ...t.documents,
        {
          name: MANIFEST_DOC,
          data: JSON.stringify(manifest, null, 1),
          mediaType: 'application/json',
        },
        { name: LOG_DOC, data: rename(t.log), mediaType: 'application/x-ndjson' },
      ],
    },
    { tags: t.tags.map(rename), time: started, saver: { workers: 0 } },
  );
  const cluster = manifest.cluster;
  await appendAudit(repo, {
    actor: ACTOR,
    action: 'backup.create',
    target: name,
    outcome: 'success',
    details: {
      snapshot: snapshot.id,
      resources: manifest.resources.total,
      volumes: 0,
      warnings: 0,
      bytesAdded: snapshot.stats.bytesAdded,
    },
    cluster: cluster.name || cluster.server,
    context: cluster.context,
    namespace: t.namespace,
  });
}

/**
 * Starts kube-sim, creates the repository and the namespaces. `add(n)` writes n more backups,
 * round-robin over the namespaces, each at the time it is written (one session for all).
 */
export async function startBenchRepository({ namespaces }) {
  const dir = mkdtempSync(join(tmpdir(), 'backup-ingest-bench-'));
  const repoDir = join(dir, 'repo');
  await (await Repository.init(new LocalStorage(repoDir), PASSWORD)).close();
  const sim = await startTestSim();
  const yamlFile = join(dir, 'namespaces.yaml');
  writeFileSync(yamlFile, namespacesYaml(namespaces));
  const applied = await sim.kubectl(['apply', '-f', yamlFile]);
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  const kc = loadKubeConfig({ kubeconfig: sim.kubeconfigPath, context: 'admin' });
  const repo = await Repository.open(new SessionStorage(repoDir), PASSWORD);
  const templates = [];
  let written = 0;
  return {
    repoDir,
    get written() {
      return written;
    },
    async add(count) {
      for (let i = 0; i < count; i++, written++) {
        const e = written % namespaces;
        const k = Math.floor(written / namespaces);
        if (k === 0) templates.push(await template(repo, kc, ns(e)));
        else await repeat(repo, templates[e], `${ns(e)}-${k}`, new Date());
      }
    },
    async dispose() {
      await repo.close().catch(() => undefined);
      await sim.dispose().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
