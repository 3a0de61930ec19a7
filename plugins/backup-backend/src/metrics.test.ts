/**
 * /metrics over a repository written by @kubectl-backup/k8s: the values are the ones the API
 * shows (times, sizes, durations) and the audit log counts; Prometheus text format; 401/403.
 */
import { type TestBackend } from '@backstage/backend-test-utils';
import type { BackupSummary, Page } from '@kubectl-backup/plugin-backup-common';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, auth, component, READER, startBackend } from './test-support/backend.js';
import { PASSWORD, startFixture, type Fixture } from './test-support/repository.js';
import { testDatabases } from './test-support/databases.js';

const databases = testDatabases();
const NS = 'backstage.io/kubernetes-namespace';

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (the subset prom-client writes). */
function parseExposition(text: string): PromSample[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      const labels: Record<string, string> = {};
      for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
      return { name: m[1]!, labels, value: Number(m[3]) };
    });
}

describe.each(databases.eachSupportedId())('/metrics (%s)', (databaseId) => {
  let fx: Fixture;
  let backend: TestBackend;
  let publicBackend: TestBackend;
  let samples: PromSample[];
  const find = (name: string, labels: Record<string, string>) =>
    samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );

  beforeAll(async () => {
    fx = await startFixture();
    await fx.seedNamespace('shop');
    await fx.seedNamespace('pay');
    await fx.backup('shop', 'shop-1', 'alice');
    await fx.backup('shop', 'shop-2', 'alice');
    await fx.backup('pay', 'pay-1', 'bob');
    await expect(fx.backup('ghost', 'ghost-1', 'carol')).rejects.toThrow(/ghost/);
    await fx.restore('shop-1', 'shop-copy');
    const config = {
      backup: { repositories: [{ name: 'main', url: fx.repoDir, password: PASSWORD }] },
    };
    const entities = [component('shop', { [NS]: 'shop' }), component('pay', { [NS]: 'pay' })];
    backend = await startBackend({ knex: await databases.init(databaseId), config, entities });
    publicBackend = await startBackend({
      knex: await databases.init(databaseId),
      config: { backup: { ...config.backup, metrics: { public: true } } },
      entities,
    });
    const res = await request(backend.server).get('/api/backup/metrics').set(auth(ADMIN));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain;.*version=0\.0\.4/);
    expect(res.text).toContain('# TYPE backup_duration_seconds histogram');
    expect(res.text).toContain('# TYPE backup_success_total counter');
    samples = parseExposition(res.text);
  });

  afterAll(async () => {
    await backend?.stop();
    await publicBackend?.stop();
    await fx?.dispose();
  });

  it("gives each namespace's newest backup time and size, backup count and durations, labelled with its entity", async () => {
    const shop = (
      (await request(backend.server).get('/api/backup/backups?namespace=shop').set(auth(ADMIN)))
        .body as Page<BackupSummary>
    ).items;
    const cluster = shop[0]!.cluster;
    const labels = { namespace: 'shop', cluster, entity: 'component:default/shop' };
    expect(find('backup_last_successful_timestamp', labels).map((s) => s.value)).toEqual([
      Date.parse(shop[0]!.time) / 1000,
    ]);
    expect(find('backup_size_bytes', labels).map((s) => s.value)).toEqual([shop[0]!.sizeTotal]);
    expect(find('backup_total', labels).map((s) => s.value)).toEqual([2]);
    expect(
      find('backup_total', { namespace: 'pay', entity: 'component:default/pay' }).map(
        (s) => s.value,
      ),
    ).toEqual([1]);
    expect(find('backup_duration_seconds_count', labels).map((s) => s.value)).toEqual([2]);
    expect(find('backup_duration_seconds_sum', labels)[0]!.value).toBeCloseTo(
      shop.reduce((n, b) => n + b.durationMs! / 1000, 0),
      6,
    );
    const buckets = find('backup_duration_seconds_bucket', labels);
    expect(buckets.find((b) => b.labels.le === '+Inf')!.value).toBe(2);
    expect(buckets.find((b) => b.labels.le === '10')!.value).toBe(
      shop.filter((b) => b.durationMs! <= 10_000).length,
    );
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
  });

  it('counts successes and failures from the audit log, restores by target namespace', () => {
    expect(
      find('backup_success_total', { namespace: 'shop', entity: 'component:default/shop' }).map(
        (s) => s.value,
      ),
    ).toEqual([2]);
    expect(find('backup_success_total', { namespace: 'pay' }).map((s) => s.value)).toEqual([1]);
    expect(
      find('backup_failure_total', { namespace: 'ghost', entity: '' }).map((s) => s.value),
    ).toEqual([1]);
    expect(find('backup_failure_total', { namespace: 'shop' })).toEqual([]);
    expect(find('restore_success_total', { namespace: 'shop-copy' }).map((s) => s.value)).toEqual([
      1,
    ]);
    expect(
      find('backup_repository_audit_chain_ok', { repository: 'main' }).map((s) => s.value),
    ).toEqual([1]);
    expect(
      find('backup_repository_last_ingest_timestamp', { repository: 'main' })[0]!.value,
    ).toBeGreaterThan(Date.parse('2026-01-01') / 1000);
  });

  it('needs credentials allowed to read every entity, unless backup.metrics.public', async () => {
    expect((await request(backend.server).get('/api/backup/metrics')).status).toBe(401);
    expect(
      (await request(backend.server).get('/api/backup/metrics').set(auth(READER))).status,
    ).toBe(403);
    const open = await request(publicBackend.server).get('/api/backup/metrics');
    expect(open.status).toBe(200);
    expect(parseExposition(open.text).filter((s) => s.name === 'backup_total').length).toBe(2);
  });
});
