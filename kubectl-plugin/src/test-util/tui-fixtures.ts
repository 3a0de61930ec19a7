/**
 * Fixed data for the TUI's component tests: a TuiService that answers from plain objects and
 * records what the screens asked for; operations are Deferreds the test settles, so a test can
 * look at a screen while a backup or restore is "running".
 */
import type { AuditEntry, Snapshot, SnapshotStats } from '@kubectl-backup/engine';
import type {
  BackupDescription,
  BackupManifest,
  BackupNamespaceResult,
  BackupSummary,
  K8sProgressEvent,
  PlanItem,
  RestoreNamespaceResult,
  RestorePlan,
  RestoreRecord,
  VerifyResult,
} from '@kubectl-backup/k8s';
import type {
  HeaderInfo,
  NamespaceDetails,
  NamespaceListing,
  OperationOptions,
  RestorePreview,
  RestoreRequest,
  TuiService,
  VerifyMode,
} from '../tui/service.js';

/** 2026-11-21 12:00:00 UTC: the tests' "now". */
export const NOW = Date.parse('2026-11-21T12:00:00Z');
const HOUR = 3_600_000;
export const iso = (msBeforeNow: number) => new Date(NOW - msBeforeNow).toISOString();

export class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<T>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
}

export function header(over: Partial<HeaderInfo> = {}): HeaderInfo {
  return {
    context: 'prod',
    cluster: 'prod-eu',
    server: 'https://10.0.0.1:6443',
    user: 'alice@example.com',
    userSource: 'SelfSubjectReview',
    repository: 's3://backups/prod',
    health: { lock: 'unlocked', audit: { ok: true, entries: 12 } },
    ...over,
  };
}

export function summary(over: Partial<BackupSummary> & { name: string }): BackupSummary {
  return {
    namespace: 'shop',
    snapshot: `${over.name.replace(/[^a-f0-9]/g, '').padEnd(8, 'a')}${'0'.repeat(56)}`,
    time: iso(2 * HOUR),
    cluster: 'prod-eu',
    actor: 'alice@example.com',
    resources: 14,
    volumes: 1,
    volumeBytes: 5 * 1024 * 1024,
    sizeTotal: 6 * 1024 * 1024,
    sizeAdded: 300 * 1024,
    storedAdded: 120 * 1024,
    warnings: 0,
    tags: [],
    ...over,
  };
}

export const SHOP_BACKUPS: BackupSummary[] = [
  summary({
    name: 'shop-nightly-3',
    time: iso(2 * HOUR),
    tags: ['schedule=nightly'],
    verified: { result: 'passed', time: iso(HOUR), record: 'v1', snapshot: 'f'.repeat(64) },
  }),
  summary({ name: 'shop-before-upgrade', time: iso(30 * HOUR), sizeAdded: 6 * 1024 * 1024 }),
];

export function listing(over: Partial<NamespaceListing> = {}): NamespaceListing {
  return {
    rows: [
      {
        name: 'billing',
        access: 'allowed',
        inCluster: true,
        backups: 1,
        last: { name: 'billing-1', time: iso(50 * HOUR), sizeTotal: 1024 },
        failedAt: iso(HOUR),
        status: 'failed',
        schedules: [],
      },
      {
        name: 'new-app',
        access: 'allowed',
        inCluster: true,
        backups: 0,
        status: 'never',
        schedules: [],
      },
      {
        name: 'payments',
        access: 'forbidden',
        inCluster: true,
        backups: 0,
        status: 'never',
        schedules: [],
      },
      {
        name: 'shop',
        access: 'allowed',
        inCluster: true,
        backups: 2,
        last: { name: 'shop-nightly-3', time: iso(2 * HOUR), sizeTotal: 6 * 1024 * 1024 },
        status: 'ok',
        schedules: ['0 2 * * *'],
      },
      {
        name: 'team-a',
        access: 'allowed',
        inCluster: true,
        backups: 3,
        last: { name: 'team-a-9', time: iso(72 * HOUR), sizeTotal: 2048 },
        status: 'stale',
      },
    ],
    ...over,
  };
}

function audit(
  seq: number,
  action: string,
  outcome: string,
  target: string,
  ago: number,
): AuditEntry {
  return {
    seq,
    time: iso(ago),
    actor: 'alice@laptop',
    action,
    target,
    outcome,
    namespace: 'shop',
    host: 'laptop',
    prev: '0'.repeat(64),
    mac: String(seq).padStart(64, '0'),
  };
}

export function details(over: Partial<NamespaceDetails> = {}): NamespaceDetails {
  return {
    namespace: 'shop',
    backups: SHOP_BACKUPS,
    restores: [
      {
        name: 'shop-before-upgrade-restore-1',
        time: iso(20 * HOUR),
        source: 'shop-before-upgrade',
        targetNamespace: 'shop-copy',
        outcome: 'success',
      },
    ],
    audit: [
      audit(7, 'backup.create', 'success', 'shop-nightly-3', 2 * HOUR),
      audit(5, 'restore.create', 'success', 'shop-before-upgrade', 20 * HOUR),
    ],
    auditChain: { ok: true, entries: 12 },
    ...over,
  };
}

const stats = (over: Partial<SnapshotStats> = {}): SnapshotStats => ({
  filesTotal: 16,
  dirsTotal: 0,
  itemsTotal: 16,
  bytesTotal: 6 * 1024 * 1024,
  bytesAdded: 300 * 1024,
  storedBytesAdded: 120 * 1024,
  blobsTotal: 30,
  blobsAdded: 3,
  durationMs: 2100,
  ...over,
});

export function manifest(name: string, over: Partial<BackupManifest> = {}): BackupManifest {
  return {
    manifestVersion: 1 as BackupManifest['manifestVersion'],
    kind: 'namespace-backup',
    name,
    namespace: 'shop',
    cluster: { name: 'prod-eu', context: 'prod', server: 'https://10.0.0.1:6443' },
    actor: 'alice@example.com',
    actorSource: 'SelfSubjectReview',
    started: iso(2 * HOUR),
    finished: iso(2 * HOUR - 2100),
    durationMs: 2100,
    resources: {
      total: 14,
      byKind: { Deployment: 3, Service: 3, ConfigMap: 2, PersistentVolumeClaim: 1 },
    },
    dependencies: [],
    types: [],
    skipped: { total: 0, byReason: {} },
    volumes: [
      {
        pvc: 'redis-data',
        method: 'fs',
        item: 'volumes/redis-data.tar',
        bytes: 5 * 1024 * 1024,
        capacity: '1Gi',
      },
    ],
    images: [
      {
        namespace: 'shop',
        pod: 'frontend-1',
        owner: 'Deployment/frontend',
        container: 'php',
        image: 'gb-frontend:v5',
        digest: 'sha256:0123456789abcdef0123',
      },
      {
        namespace: 'shop',
        pod: 'redis-1',
        owner: 'Deployment/redis',
        container: 'redis',
        image: 'redis:7',
      },
    ],
    hooks: [],
    warnings: [],
    options: {
      includeResources: [],
      excludeResources: [],
      volumes: 'auto',
      failOnWarning: false,
      tags: [],
    },
    ...over,
  };
}

export function description(b: BackupSummary): BackupDescription {
  const m = manifest(b.name);
  return {
    summary: b,
    who: { actor: m.actor, actorSource: m.actorSource, host: 'laptop', user: 'alice' },
    when: { started: b.time, finished: b.time, durationMs: 2100 },
    where: { cluster: 'prod-eu', context: 'prod', server: m.cluster.server, namespace: 'shop' },
    resources: Object.entries(m.resources.byKind).map(([kind, count]) => ({
      kind,
      apiVersion: 'v1',
      count,
      names: [],
    })),
    dependencies: [],
    skipped: m.skipped,
    volumes: m.volumes,
    images: m.images,
    hooks: [],
    stats: stats(),
    warnings: b.name === 'shop-before-upgrade' ? ['secrets: list forbidden, not captured'] : [],
    options: m.options,
    restores: [],
    manifest: m,
  };
}

export function snapshot(id: string, over: Partial<Snapshot> = {}): Snapshot {
  return {
    id,
    time: iso(0),
    host: 'laptop',
    user: 'alice',
    tags: [],
    paths: [],
    stats: stats(),
    program: 'kubectl-backup',
    ...over,
  } as Snapshot;
}

export function backupResult(name: string): BackupNamespaceResult {
  return {
    snapshot: snapshot('c0ffee00'.padEnd(64, '0')),
    manifest: manifest(name),
    objects: [],
    warnings: [],
  };
}

function planItem(
  action: PlanItem['action'],
  kind: string,
  name: string,
  changes?: PlanItem['changes'],
): PlanItem {
  return {
    stage: 'workloads' as PlanItem['stage'],
    path: `resources/${kind}/${name}.json`,
    ref: {
      group: '',
      version: 'v1',
      resource: kind.toLowerCase(),
      kind,
      namespace: 'shop-copy',
      name,
    },
    location: { group: '', version: 'v1', resource: kind.toLowerCase(), namespaced: true },
    object: { apiVersion: 'v1', kind, metadata: { name } },
    action,
    exists: action !== 'create',
    ...(changes ? { changes } : {}),
  };
}

export function preview(request: RestoreRequest): RestorePreview {
  const plan: RestorePlan = {
    backup: { name: request.backup, snapshot: 'a'.repeat(64), namespace: 'shop' },
    targetNamespace: request.targetNamespace,
    existing: request.existing,
    items: [
      planItem('create', 'Deployment', 'frontend'),
      planItem('create', 'Service', 'frontend'),
      planItem(request.existing === 'skip' ? 'skip' : 'update', 'ConfigMap', 'settings', [
        { path: 'data.color', from: 'red', to: 'blue' },
      ]),
    ],
    filteredOut: request.excludeResources?.length ? 4 : 0,
    volumes: request.volumes
      ? [{ pvc: 'redis-data', item: 'volumes/redis-data.tar', bytes: 5 * 1024 * 1024 }]
      : [],
    permissions: { checked: [], missing: [] },
    warnings: [],
    manifest: manifest(request.backup),
  };
  return {
    plan,
    notInBackup: [
      {
        change: 'added',
        kind: 'ConfigMap',
        name: 'local-only',
      } as RestorePreview['notInBackup'][number],
    ],
  };
}

export function restoreResult(request: RestoreRequest): RestoreNamespaceResult {
  const p = preview(request).plan;
  const record: RestoreRecord = {
    recordVersion: 1,
    kind: 'restore-record',
    name: `${request.backup}-restore-20261121t120000z`,
    source: { backup: request.backup, snapshot: p.backup.snapshot, namespace: 'shop' },
    targetNamespace: request.targetNamespace,
    cluster: { name: 'prod-eu', context: 'prod', server: 'https://10.0.0.1:6443' },
    actor: 'alice@example.com',
    started: iso(0),
    finished: iso(0),
    durationMs: 4200,
    outcome: 'partial',
    counts: { created: 1, updated: 0, unchanged: 0, skipped: 1, failed: 1, planned: 0 },
    items: [
      {
        path: 'a',
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'frontend',
        outcome: 'created',
        action: 'create',
      },
      {
        path: 'b',
        apiVersion: 'v1',
        kind: 'Service',
        name: 'frontend',
        outcome: 'failed',
        action: 'create',
        reason: 'port 30080 is taken',
      },
      {
        path: 'c',
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: 'settings',
        outcome: 'skipped',
        action: 'skip',
        reason: 'exists',
      },
    ],
    volumes: [{ pvc: 'redis-data', outcome: 'restored' }],
    readiness: [],
    warnings: [],
    options: {},
  };
  return { plan: p, dryRun: false, record, warnings: [] };
}

export function verifyResult(result: 'passed' | 'failed'): VerifyResult {
  return {
    backup: 'shop-nightly-3',
    snapshot: 'a'.repeat(64),
    result,
    checks: [
      { name: 'items', ok: true, detail: '16 items readable' },
      {
        name: 'restore test',
        ok: result === 'passed',
        ...(result === 'failed' ? { problems: ['ConfigMap settings: data.color differs'] } : {}),
      },
    ],
    scratchNamespace: 'verify-shop-nightly-3-abc123',
    warnings: [],
  };
}

export interface FixtureService extends TuiService {
  calls: string[];
  /** The running operation's options (signal, onProgress) and its Deferred. */
  running?: { options: OperationOptions; deferred: Deferred<unknown> };
}

/** A service over the fixtures above; `over` replaces single methods. */
export function fixtureService(over: Partial<TuiService> = {}): FixtureService {
  const service: FixtureService = {
    calls: [],
    header: async () => header(),
    namespaces: async () => listing(),
    namespace: async (name) =>
      details({
        namespace: name,
        ...(name === 'shop' ? {} : { backups: [], restores: [], audit: [] }),
      }),
    describe: async (name) =>
      description(SHOP_BACKUPS.find((b) => b.name === name) ?? summary({ name })),
    backup: (namespace, options) => operation(`backup ${namespace}`, options),
    planRestore: async (request) => {
      service.calls.push(`plan ${JSON.stringify(request)}`);
      return preview(request);
    },
    restore: (request, options) => operation(`restore ${JSON.stringify(request)}`, options),
    verify: (backup: string, mode: VerifyMode, options) =>
      operation(`verify ${backup} ${mode}`, options),
    deleteBackup: async (name) => {
      service.calls.push(`delete ${name}`);
      return { warnings: [] };
    },
    ...over,
  };
  function operation<T>(call: string, options: OperationOptions): Promise<T> {
    service.calls.push(call);
    const deferred = new Deferred<unknown>();
    service.running = { options, deferred };
    // like the library: an abort rejects the operation
    options.signal?.addEventListener('abort', () =>
      deferred.reject(Object.assign(new Error('the operation was canceled'), { code: 'EABORTED' })),
    );
    return deferred.promise as Promise<T>;
  }
  return service;
}

export type ProgressEvent = K8sProgressEvent & { currentItem?: string; bytesAdded?: number };
