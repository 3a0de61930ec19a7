import { check, listItems, listSnapshots, readDocuments, readItem, readAuditLog } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNamespace } from './backup.js';
import { setIntegrationModules } from './integration.js';
import { KIND_NAMESPACE_BACKUP, MANIFEST_DOC, LOG_DOC, tag } from './layout.js';
import type { BackupManifest } from './manifest.js';
import type { K8sProgressEvent } from './log.js';
import { readLog } from './records.js';
import { applyFixture, memoryRepo, startHarness, type Harness } from './test-support/sim.js';

describe('backupNamespace', () => {
  let h: Harness;
  beforeAll(async () => {
    setIntegrationModules({ volumes: null, hooks: null });
    h = await startHarness();
    await applyFixture(h, 'guestbook', 'guestbook');
  });
  afterAll(async () => {
    setIntegrationModules({});
    await h?.dispose();
  });

  it('captures the namespace resources, dependencies and images into one snapshot', async () => {
    const repo = await memoryRepo();
    const events: string[] = [];
    const saving: K8sProgressEvent[] = [];
    const result = await backupNamespace(repo, h.kubeConfig(), {
      namespace: 'guestbook',
      name: 'gb-1',
      volumes: 'none',
      onProgress: (e) => {
        events.push(e.phase);
        if (e.phase === 'save' && e.bytesDone !== undefined) saving.push(e);
      },
    });
    // the engine's progress reaches the caller: bytes new so far, the item being read
    const last = saving.at(-1)!;
    expect(last.bytesAdded).toBeGreaterThan(0);
    expect(last.bytesAdded).toBeLessThanOrEqual(last.bytesTotal!);
    expect(saving.some((e) => e.currentItem?.startsWith('resources/'))).toBe(true);
    expect(result.snapshot.tags).toEqual(
      expect.arrayContaining([tag('kind', KIND_NAMESPACE_BACKUP), tag('namespace', 'guestbook'), tag('name', 'gb-1'), expect.stringMatching(/^kubectl-backup\/cluster=/)]),
    );
    const names: string[] = [];
    for await (const { item } of readDocuments(repo, result.snapshot)) names.push(item.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'resources/apps/v1/deployments/guestbook/frontend.json',
        'resources/apps/v1/deployments/guestbook/redis-master.json',
        'resources/core/v1/services/guestbook/frontend.json',
        'resources/core/v1/namespaces/_cluster/guestbook.json',
        'resources/core/v1/serviceaccounts/guestbook/default.json',
        MANIFEST_DOC,
        LOG_DOC,
      ]),
    );
    // skip list: controller-owned pods and replica sets, endpoints, events, kube-root-ca.crt
    expect(names.some((n) => n.startsWith('resources/core/v1/pods/'))).toBe(false);
    expect(names.some((n) => n.startsWith('resources/apps/v1/replicasets/'))).toBe(false);
    expect(names.some((n) => n.includes('/endpoints/') || n.includes('/endpointslices/') || n.includes('/events/'))).toBe(false);
    expect(names).not.toContain('resources/core/v1/configmaps/guestbook/kube-root-ca.crt.json');
    // the log names every skipped object, one entry per type and reason
    const opLog = await readLog(repo, result.snapshot);
    const podSkips = opLog.filter((e) => e.event === 'skip.objects' && e.kind === 'Pod');
    expect(podSkips).toHaveLength(1);
    expect(podSkips[0]).toMatchObject({ reason: 'owned by a ReplicaSet, which makes it again', count: (podSkips[0]!.names as string[]).length });
    expect(podSkips[0]!.count).toBeGreaterThanOrEqual(3);
    expect(podSkips[0]!.names).toContainEqual(expect.stringMatching(/^frontend-[a-z0-9]+-[a-z0-9]+ \(ReplicaSet frontend-[a-z0-9]+\)$/));

    const manifest = JSON.parse((await readItem(repo, result.snapshot, MANIFEST_DOC)).toString()) as BackupManifest;
    expect(manifest.name).toBe('gb-1');
    expect(manifest.namespace).toBe('guestbook');
    expect(manifest.actor).toBe('admin');
    expect(manifest.actorSource).toBe('SelfSubjectReview');
    expect(manifest.resources.byKind.Deployment).toBe(3);
    expect(manifest.resources.byKind.Service).toBe(3);
    expect(manifest.images.map((i) => `${i.owner}/${i.container}`)).toEqual(expect.arrayContaining(['Deployment/frontend/php-redis', 'Deployment/redis-master/master']));
    expect(manifest.images.find((i) => i.owner === 'Deployment/frontend')?.image).toBe('gcr.io/google-samples/gb-frontend:v5');
    expect(manifest).toEqual(result.manifest);
    const log = (await readItem(repo, result.snapshot, LOG_DOC)).toString().trim().split('\n').map((l) => JSON.parse(l) as { event: string });
    expect(log.some((e) => e.event === 'capture.type')).toBe(true);
    expect(events).toContain('capture');
    expect(events).toContain('save');

    const audit = await readAuditLog(repo);
    expect(audit.map((a) => [a.action, a.target, a.outcome, a.namespace])).toEqual([['backup.create', 'gb-1', 'success', 'guestbook']]);
  });

  it('refuses a second backup with the same name, and audits the refusal', async () => {
    const repo = await memoryRepo();
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'same', volumes: 'none' });
    await expect(backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'same', volumes: 'none' })).rejects.toMatchObject({ code: 'EEXISTS' });
    const audit = await readAuditLog(repo);
    expect(audit.map((a) => a.outcome)).toEqual(['success', 'failure']);
    expect((await listSnapshots(repo)).length).toBe(1);
  });

  it('names backups <namespace>-<UTC timestamp> by default', async () => {
    const repo = await memoryRepo();
    const r = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', volumes: 'none', time: new Date('2026-01-02T03:04:05.678Z') });
    expect(r.manifest.name).toBe('guestbook-20260102t030405z');
  });

  it('fails with ENONAMESPACE for a namespace that does not exist', async () => {
    const repo = await memoryRepo();
    await expect(backupNamespace(repo, h.kubeConfig(), { namespace: 'nope', volumes: 'none' })).rejects.toMatchObject({ code: 'ENONAMESPACE' });
  });

  it('applies include/exclude filters and label selectors', async () => {
    const repo = await memoryRepo();
    const onlyServices = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'svc', volumes: 'none', includeResources: ['services'] });
    expect(Object.keys(onlyServices.manifest.resources.byKind).sort()).toEqual(['Namespace', 'Service']);
    const noDeploy = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'nodeploy', volumes: 'none', excludeResources: ['deployments.apps'] });
    expect(noDeploy.manifest.resources.byKind.Deployment).toBeUndefined();
    expect(noDeploy.manifest.resources.byKind.Service).toBe(3);
    const redis = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'redis', volumes: 'none', labelSelector: 'app=redis' });
    expect(redis.objects.filter((o) => o.kind === 'Service').map((o) => o.name).sort()).toEqual(['redis-master', 'redis-replica']);
    const typo = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'typo', volumes: 'none', includeResources: ['deploymnts'] });
    expect(typo.warnings.join('\n')).toContain('deploymnts');
  });

  it('stores little on an unchanged second backup (incremental)', async () => {
    const repo = await memoryRepo();
    const first = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'inc-1', volumes: 'none' });
    const second = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'inc-2', volumes: 'none' });
    expect(first.snapshot.stats.bytesAdded).toBeGreaterThan(0);
    // unchanged objects cost nothing: what is new is the manifest and the log (times differ)
    const items = await listItems(repo, second.snapshot);
    const meta = items.filter((i) => i.name.startsWith('meta/')).reduce((n, i) => n + i.size, 0);
    const resources = items.filter((i) => i.name.startsWith('resources/')).reduce((n, i) => n + i.size, 0);
    expect(resources).toBeGreaterThan(0);
    // (plus the snapshot's item list)
    expect(second.snapshot.stats.bytesAdded - meta).toBeLessThan(resources / 4);
    expect(second.snapshot.stats.bytesTotal).toBeGreaterThan(second.snapshot.stats.bytesAdded);
  });

  it('runs pre hooks before and post hooks after capture, records them, and fails on a fatal pre hook', async () => {
    const calls: string[] = [];
    const record = (phase: 'pre' | 'post', fatal = false) => ({ pod: 'p', container: 'c', phase, command: ['true'], stdout: '', stderr: '', durationMs: 1, ok: !fatal, onError: fatal ? ('Fail' as const) : ('Continue' as const), ...(fatal ? { fatal: true, exitCode: 1 } : { exitCode: 0 }) });
    setIntegrationModules({
      volumes: null,
      hooks: {
        runHooks: async (_kc, _ns, pods, phase) => {
          calls.push(`${phase}:${pods.length}`);
          return [record(phase)];
        },
      },
    });
    try {
      const repo = await memoryRepo();
      const r = await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'hooked', volumes: 'none' });
      expect(calls).toEqual(['pre:6', 'post:6']);
      expect(r.manifest.hooks.map((x) => x.phase)).toEqual(['pre', 'post']);

      calls.length = 0;
      setIntegrationModules({
        volumes: null,
        hooks: {
          runHooks: async (_kc, _ns, _pods, phase) => {
            calls.push(phase);
            return [record(phase, phase === 'pre')];
          },
        },
      });
      await expect(backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'hook-fails', volumes: 'none' })).rejects.toMatchObject({ code: 'EHOOK' });
      // the post hooks still ran (e.g. to resume a frozen database)
      expect(calls).toEqual(['pre', 'post']);
      expect((await listSnapshots(repo)).length).toBe(1);
      expect((await readAuditLog(repo)).at(-1)).toMatchObject({ target: 'hook-fails', outcome: 'failure' });
    } finally {
      setIntegrationModules({ volumes: null, hooks: null });
    }
  });

  it('cancelled mid-way: throws, audits the cancellation, leaves a repository that checks clean', async () => {
    const repo = await memoryRepo();
    const ctrl = new AbortController();
    await expect(
      backupNamespace(repo, h.kubeConfig(), {
        namespace: 'guestbook',
        name: 'cancelled',
        volumes: 'none',
        signal: ctrl.signal,
        onProgress: (e) => {
          if (e.phase === 'save') ctrl.abort();
        },
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/ECANCELED|EABORTED/) });
    expect(await listSnapshots(repo)).toEqual([]);
    expect((await readAuditLog(repo)).map((a) => [a.target, a.outcome])).toEqual([['cancelled', 'canceled']]);
    const report = await check(repo);
    expect(report.errors).toEqual([]);
    // the same name can be used again
    await backupNamespace(repo, h.kubeConfig(), { namespace: 'guestbook', name: 'cancelled', volumes: 'none' });
  });
});
