/**
 * The built backend (`node dist/index.js`) with the root app-config.yaml: the backup plugin is
 * installed and configured, serves its API behind Backstage auth, and maps the example catalog
 * entities (a guest user's token, as the frontend would get it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, Repository } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BACKEND = new URL('../', import.meta.url).pathname;

async function until<T>(
  fn: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

describe('packages/backend', () => {
  let dir: string;
  let child: ChildProcess;
  let base: string;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backend-test-'));
    await (
      await Repository.init(new LocalStorage(join(dir, 'repo')), 'pw', {
        scrypt: { N: 1024, r: 8, p: 1 },
      })
    ).close();
    writeFileSync(join(dir, 'kubeconfig'), '');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'override.yaml'),
      `backend:\n  baseUrl: ${base}\n  listen:\n    port: ${port}\n    host: 127.0.0.1\n`,
    );
    child = spawn(
      process.execPath,
      [
        'dist/index.js',
        '--config',
        join(ROOT, 'app-config.yaml'),
        '--config',
        join(dir, 'override.yaml'),
      ],
      {
        cwd: BACKEND,
        env: {
          ...process.env,
          NODE_ENV: 'development',
          KUBECTL_BACKUP_REPOSITORY: join(dir, 'repo'),
          KUBECTL_BACKUP_PASSWORD: 'pw',
          KUBECONFIG: join(dir, 'kubeconfig'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 90_000;
    for (;;) {
      const ok = await fetch(`${base}/api/backup/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the backend did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the backup API behind Backstage auth', async () => {
    expect((await fetch(`${base}/api/backup/backups`)).status).toBe(401);
    const refresh = await fetch(`${base}/api/auth/guest/refresh`, {
      headers: { 'X-Requested-With': 'XMLHttpRequest' },
    });
    expect(refresh.status).toBe(200);
    const token = ((await refresh.json()) as { backstageIdentity: { token: string } })
      .backstageIdentity.token;
    const headers = { Authorization: `Bearer ${token}` };

    const repos = await fetch(`${base}/api/backup/repositories`, { headers });
    expect(repos.status).toBe(200);
    expect(await repos.json()).toEqual([
      expect.objectContaining({ name: 'local', location: join(dir, 'repo'), backups: 0 }),
    ]);

    // The catalog reads examples/entities.yaml shortly after start.
    const docs = await until(
      () => fetch(`${base}/api/backup/entities/component/default/docs/status`, { headers }),
      (r) => r.status !== 404,
    );
    expect(await docs.json()).toMatchObject({
      entityRef: 'component:default/docs',
      configured: false,
    });
    const shop = await fetch(`${base}/api/backup/entities/component/default/shop/status`, {
      headers,
    });
    expect(await shop.json()).toMatchObject({
      configured: true,
      target: { namespace: 'shop', cluster: 'kube-sim' },
      backups: 0,
      rpo: { state: 'none', seconds: 86400 },
    });
  });
});
