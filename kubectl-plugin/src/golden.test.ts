/**
 * Golden-output tests of `kubectl backup list` and `describe` (tables and JSON): the built
 * executable against a kube-sim namespace (guestbook, a ConfigMap, a PVC with a file), compared
 * with the files in test/golden/ after the run-specific values (times, ids, sizes, host, server
 * address, random pod-name suffixes) are replaced by placeholders and runs of spaces collapsed.
 *
 * After an intended output change: KUBECTL_BACKUP_UPDATE_GOLDEN=1 npx vitest run src/golden.test.ts
 * rewrites the files; review the diff before committing it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json } from './test-util/cli.js';
import {
  clusterSandbox,
  FIXTURES,
  ok,
  workloadWithPvc,
  type ClusterSandbox,
} from './test-util/cluster.js';

const GOLDEN = path.resolve(import.meta.dirname, '../test/golden');
const UPDATE = process.env.KUBECTL_BACKUP_UPDATE_GOLDEN === '1';

let c: ClusterSandbox;
let snapshot = '';

const kubectl = (args: string[], input?: string) => c.kubectl(args, input);
const kb = (args: string[]) => ok(c.kb(args));

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** JSON keys whose values change from run to run. */
const VOLATILE: Record<string, string> = {
  snapshot: '<snapshot>',
  time: '<time>',
  started: '<time>',
  finished: '<time>',
  durationMs: '<ms>',
  server: '<server>',
  host: '<host>',
  user: '<user>',
  pod: '<pod>',
  sizeTotal: '<bytes>',
  sizeAdded: '<bytes>',
  storedAdded: '<bytes>',
  volumeBytes: '<bytes>',
  bytes: '<bytes>',
  bytesTotal: '<bytes>',
  bytesAdded: '<bytes>',
  storedBytesAdded: '<bytes>',
};

/** Maps whose key order depends on the order types were listed in (parallel). */
const UNORDERED = new Set(['byReason', 'byKind']);

function normalizeJson(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalizeJson(v));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (UNORDERED.has(key)) entries.sort(([a], [b]) => a.localeCompare(b));
    return Object.fromEntries(
      entries.map(([k, v]) => [
        k,
        k in VOLATILE && (typeof v === 'string' || typeof v === 'number')
          ? VOLATILE[k]
          : normalizeJson(v, k),
      ]),
    );
  }
  return value;
}

/** Dynamically provisioned volumes are named after a random uid. */
const pvNames = (text: string) => text.replace(/\bpvc-[0-9a-f-]{36}\b/g, 'pvc-<uid>');

const jsonGolden = (doc: unknown) => pvNames(`${JSON.stringify(normalizeJson(doc), null, 2)}\n`);

function normalizeText(text: string): string {
  return pvNames(text)
    .replace(new RegExp(escape(snapshot), 'g'), '<snapshot>')
    .replace(new RegExp(`\\b${snapshot.slice(0, 8)}\\b`, 'g'), '<snapshot>')
    .replace(new RegExp(escape(c.sim.url), 'g'), '<server>')
    .replace(/\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\b\d+(\.\d+)? (B|KiB|MiB|GiB)\b/g, '<size>')
    .replace(/^(Duration: +)\S+$/m, '$1<duration>')
    .replace(new RegExp(`\\bon ${escape(hostname())}$`, 'm'), 'on <host>')
    .split('\n')
    .map((line) => line.replace(/ {2,}/g, '  ').trimEnd())
    .join('\n');
}

async function golden(name: string, actual: string): Promise<void> {
  const file = path.join(GOLDEN, name);
  if (UPDATE) {
    await mkdir(GOLDEN, { recursive: true });
    await writeFile(file, actual);
    return;
  }
  expect(
    existsSync(file),
    `${file} is missing: run with KUBECTL_BACKUP_UPDATE_GOLDEN=1 to write it`,
  ).toBe(true);
  expect(actual).toBe(await readFile(file, 'utf8'));
}

beforeAll(async () => {
  c = await clusterSandbox();
  await ok(kubectl(['create', 'namespace', 'shop']));
  await ok(kubectl(['apply', '-n', 'shop', '-f', path.join(FIXTURES, 'guestbook')]));
  await ok(
    kubectl(
      ['apply', '-n', 'shop', '-f', '-'],
      workloadWithPvc({ name: 'uploader', pvc: 'uploads', mountPath: '/uploads' }),
    ),
  );
  await ok(kubectl(['create', 'configmap', 'settings', '-n', 'shop', '--from-literal=color=blue']));
  for (const d of ['frontend', 'redis-master', 'redis-replica', 'uploader'])
    await ok(kubectl(['rollout', 'status', `deployment/${d}`, '-n', 'shop', '--timeout=60s']));
  await ok(
    kubectl(
      ['exec', '-i', '-n', 'shop', 'deploy/uploader', '--', 'sh', '-c', 'cat > /uploads/a.txt'],
      'hello\n'.repeat(1000),
    ),
  );
  await kb(['create', 'shop-1', '-n', 'shop', '--tag', 'release=1', '--volumes', 'fs']);
  snapshot = json<Array<{ snapshot: string }>>(await kb(['list', '-n', 'shop', '-o', 'json']))[0]!
    .snapshot;
}, 180_000);

afterAll(() => c?.dispose());

describe('golden output', () => {
  it('list: table, wide, name and JSON', async () => {
    await golden('list.txt', normalizeText((await kb(['list', '-n', 'shop'])).stdout));
    await golden('list-wide.txt', normalizeText((await kb(['list', '-A', '-o', 'wide'])).stdout));
    expect((await kb(['list', '-A', '-o', 'name'])).stdout).toBe('shop-1\n');
    const list = json<unknown>(await kb(['list', '-n', 'shop', '-o', 'json']));
    await golden('list.json', jsonGolden(list));
  });

  it('describe: table and JSON', async () => {
    const text = (await kb(['describe', 'shop-1'])).stdout;
    expect(text).toContain(`Created by: admin (SelfSubjectReview) on ${hostname()}`);
    await golden('describe.txt', normalizeText(text));
    const doc = json<{ who: { user: string } }>(await kb(['describe', 'shop-1', '-o', 'json']));
    expect(doc.who.user).toBe(userInfo().username);
    await golden('describe.json', jsonGolden(doc));
  });
});
