import { ConfigReader } from '@backstage/config';
import { describe, expect, it } from 'vitest';
import { BackupConfigError, readBackupConfig } from './readBackupConfig.js';

const repo = { name: 'main', url: '/backups/main', password: 'x' };

function problems(backup: unknown, extra: Record<string, unknown> = {}): string[] {
  try {
    readBackupConfig(new ConfigReader({ backup, ...extra }));
  } catch (err) {
    expect(err).toBeInstanceOf(BackupConfigError);
    return (err as BackupConfigError).problems;
  }
  throw new Error('expected a BackupConfigError');
}

describe('readBackupConfig', () => {
  it('reads a full configuration with defaults', () => {
    const c = readBackupConfig(
      new ConfigReader({
        backup: {
          repositories: [
            repo,
            {
              name: 's3',
              url: 's3://b/p?endpoint=http://127.0.0.1:9000',
              passwordFile: '/run/pw',
              credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
            },
          ],
          clusters: [
            { name: 'prod', url: 'https://10.0.0.1:6443', token: 't', caData: 'Y2E=' },
            { name: 'dev', kubeconfig: '/kube/config', context: 'dev' },
            { name: 'k8s', fromKubernetesPlugin: true },
          ],
          ingest: { frequency: { minutes: 2 } },
          rpo: { default: '12h', entities: { 'component:shop': { hours: 1 } } },
          schedules: [
            {
              entity: 'component:default/shop',
              cron: '0 2 * * *',
              retention: { keepDaily: 7, keepWithin: '2w' },
            },
          ],
        },
        kubernetes: {
          clusterLocatorMethods: [
            {
              type: 'config',
              clusters: [
                {
                  name: 'k8s',
                  url: 'https://k8s:6443',
                  serviceAccountToken: 'sa',
                  skipTLSVerify: true,
                },
              ],
            },
          ],
        },
      }),
    );
    expect(c.repositories.map((r) => r.name)).toEqual(['main', 's3']);
    expect(c.repositories[1]!.credentials).toEqual({ accessKeyId: 'a', secretAccessKey: 'b' });
    expect(c.clusters[2]).toEqual({
      name: 'k8s',
      url: 'https://k8s:6443',
      token: 'sa',
      skipTLSVerify: true,
    });
    expect(c.ingest).toEqual({ frequency: { milliseconds: 120_000 }, timeoutMs: 600_000 });
    expect(c.rpo.defaultMs).toBe(12 * 3600_000);
    expect(c.rpo.entities.get('component:default/shop')).toBe(3600_000);
    expect(c.schedules[0]).toMatchObject({
      entity: 'component:default/shop',
      repository: 'main',
      retention: { keepDaily: 7, keepWithin: '2w' },
    });
  });

  it('defaults: no repositories, 5-minute ingest, 24 h RPO', () => {
    const c = readBackupConfig(new ConfigReader({}));
    expect(c).toMatchObject({
      repositories: [],
      clusters: [],
      schedules: [],
      ingest: { frequency: { milliseconds: 300_000 } },
      rpo: { defaultMs: 86_400_000 },
      cache: { ttlMs: 5_000 },
    });
  });

  it('reads the cache ttl in any duration form; 0 turns the caches off', () => {
    const ttl = (value: unknown) =>
      readBackupConfig(new ConfigReader({ backup: { cache: { ttl: value } } })).cache.ttlMs;
    expect(ttl('30s')).toBe(30_000);
    expect(ttl({ minutes: 1 })).toBe(60_000);
    expect(ttl('PT2S')).toBe(2_000);
    expect(ttl(0)).toBe(0);
    expect(ttl('0s')).toBe(0);
    expect(ttl({ seconds: 0 })).toBe(0);
    expect(problems({ cache: { ttl: 'a while' } })).toEqual([
      expect.stringContaining("Invalid duration 'a while' in config at 'backup.cache.ttl'"),
    ]);
    expect(problems({ cache: { ttl: 5 } })).toEqual([
      "backup.cache.ttl needs a unit, e.g. '5s' or { seconds: 5 }",
    ]);
  });

  it('lists every problem, each with its config path', () => {
    const list = problems({
      repositories: [repo, { ...repo }, { name: 'nopw', url: '/x' }],
      clusters: [
        { name: 'both', url: 'https://a', kubeconfig: '/k' },
        { name: 'ghost', fromKubernetesPlugin: true },
      ],
      rpo: { default: 'soon' },
      schedules: [
        { namespace: 'shop', cron: 'every day', repository: 'nope' },
        { cron: '0 1 * * *' },
      ],
    });
    expect(list).toEqual([
      'backup.repositories[2] needs a password (e.g. password: ${BACKUP_REPOSITORY_PASSWORD}) or a passwordFile',
      'backup.repositories[1].name "main" is used twice',
      'backup.clusters[0] (both) needs either url (with token/caData) or kubeconfig',
      `backup.clusters[1] (ghost) reuses the Kubernetes plugin's cluster, but kubernetes.clusterLocatorMethods[].clusters[] has none named "ghost"`,
      expect.stringContaining("Invalid duration 'soon' in config at 'backup.rpo.default'"),
      'backup.schedules[0].cron: invalid cron "every day": expected 5 or 6 fields (e.g. "0 2 * * *")',
      'backup.schedules[1] needs either entity or namespace',
    ]);
  });

  it('names a missing required field', () => {
    expect(problems({ repositories: [{ name: 'x', password: 'p' }] })).toEqual([
      expect.stringMatching(/backup\.repositories\[0\]\.url/),
    ]);
  });

  it('names schedules after their entity or namespace, and wants distinct names', () => {
    expect(
      problems({
        repositories: [repo],
        schedules: [
          { namespace: 'a', cron: '0 1 * * *' },
          { namespace: 'a', cron: '0 */6 * * *' },
        ],
      }),
    ).toEqual(['backup.schedules[1]: another schedule is named "a": give each a distinct name']);
    const c = readBackupConfig(
      new ConfigReader({
        backup: {
          repositories: [repo],
          schedules: [
            { namespace: 'a', cron: '0 1 * * *' },
            { name: 'a-6h', namespace: 'a', cron: '0 */6 * * *' },
          ],
        },
      }),
    );
    expect(c.schedules.map((s) => s.name)).toEqual(['a', 'a-6h']);
  });

  it('rejects a schedule of an unknown repository and a retention that keeps nothing', () => {
    expect(
      problems({
        repositories: [repo],
        schedules: [{ namespace: 'a', cron: '0 1 * * *', repository: 'other' }],
      }),
    ).toEqual(['backup.schedules[0].repository "other" is not in backup.repositories']);
    expect(
      problems({
        repositories: [repo],
        schedules: [{ namespace: 'a', cron: '0 1 * * *', retention: {} }],
      }),
    ).toEqual([
      'backup.schedules[0].retention keeps nothing: give keepLast, keepDaily, … or keepWithin',
    ]);
  });
});
