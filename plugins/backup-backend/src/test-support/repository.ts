/**
 * Test fixtures made with the real libraries, as the CLI would: a local repository, a kube-sim
 * with a small application, backups, restores and verifications written by @kubectl-backup/k8s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, Repository } from '@kubectl-backup/engine';
import {
  backupNamespace,
  loadKubeConfig,
  restoreNamespace,
  verifyBackup,
  type BackupNamespaceResult,
} from '@kubectl-backup/k8s';
import { startTestSim, type TestSim } from '@kubectl-backup/kube-sim';

export const PASSWORD = 'test-password';
const FAST_KDF = { scrypt: { N: 1024, r: 8, p: 1 } };

export interface Fixture {
  sim: TestSim;
  /** Directory of the repository (also its URL). */
  repoDir: string;
  /** A scratch directory removed by dispose(). */
  dir: string;
  withRepo<T>(fn: (repo: Repository) => Promise<T>): Promise<T>;
  /** Creates a namespace with a ConfigMap, a Secret and a Deployment (nginx:1.27). */
  seedNamespace(namespace: string): Promise<void>;
  backup(namespace: string, name: string, actor?: string): Promise<BackupNamespaceResult>;
  restore(backup: string, targetNamespace: string): Promise<void>;
  verify(backup: string): Promise<void>;
  dispose(): Promise<void>;
}

async function must(sim: TestSim, args: string[]): Promise<string> {
  const r = await sim.kubectl(args);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export async function startFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'backup-backend-test-'));
  const repoDir = join(dir, 'repo');
  await (await Repository.init(new LocalStorage(repoDir), PASSWORD, FAST_KDF)).close();
  const sim = await startTestSim();
  const kc = () => loadKubeConfig({ kubeconfig: sim.kubeconfigPath, context: 'admin' });
  const withRepo = async <T>(fn: (repo: Repository) => Promise<T>): Promise<T> => {
    const repo = await Repository.open(new LocalStorage(repoDir), PASSWORD);
    try {
      return await fn(repo);
    } finally {
      await repo.close();
    }
  };
  return {
    sim,
    repoDir,
    dir,
    withRepo,
    async seedNamespace(namespace) {
      await must(sim, ['create', 'namespace', namespace]);
      await must(sim, [
        'create',
        'configmap',
        'settings',
        '-n',
        namespace,
        '--from-literal=color=blue',
      ]);
      await must(sim, [
        'create',
        'secret',
        'generic',
        'token',
        '-n',
        namespace,
        '--from-literal=token=s3cr3t',
      ]);
      await must(sim, ['create', 'deployment', 'web', '-n', namespace, '--image=nginx:1.27']);
    },
    backup: (namespace, name, actor) =>
      withRepo((repo) =>
        backupNamespace(repo, kc(), {
          namespace,
          name,
          volumes: 'none',
          ...(actor ? { actor } : {}),
        }),
      ),
    restore: async (backup, targetNamespace) => {
      await withRepo((repo) =>
        restoreNamespace(repo, kc(), { backup, targetNamespace, wait: false }),
      );
    },
    verify: async (backup) => {
      await withRepo((repo) => verifyBackup(repo, undefined, { backup }));
    },
    async dispose() {
      await sim.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
