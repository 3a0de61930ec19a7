/**
 * The namespace commands end to end: the built `kubectl-backup` against a kube-sim (one per
 * file, port 0, temp dir), the real kubectl where a user would type it, a repository in a temp
 * directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, type RunResult } from './test-util/cli.js';
import {
  clusterSandbox,
  deploymentsReady,
  inventory as inventoryOf,
  namespaceGone as gone,
  ok,
  seedShop,
  waitFor,
  type ClusterSandbox,
} from './test-util/cluster.js';

let c: ClusterSandbox;

/** `kubectl backup …` with the sandbox repository and the simulator's kubeconfig. */
const kb = (args: string[], env: Record<string, string | undefined> = {}): Promise<RunResult> =>
  c.kb(args, env);
const kubectl = (args: string[]) => c.kubectl(args);
const ready = (ns: string) => deploymentsReady(c, ns);
const namespaceGone = (ns: string) => gone(c, ns);
const inventory = (ns: string) => inventoryOf(c, ns);

interface Obj {
  metadata: { name: string; namespace?: string; uid?: string };
  data?: Record<string, string>;
}

async function getJson<T>(args: string[]): Promise<T> {
  const r = await kubectl(['get', ...args, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  c = await clusterSandbox();
  await seedShop(c);
}, 120_000);

afterAll(() => c?.dispose());

describe('kubectl backup (namespace commands)', () => {
  let before: string[] = [];

  it('creates a backup with a summary, then lists and describes it', async () => {
    before = await inventory('shop');
    expect(before).toContain('Deployment/frontend');

    const created = await ok(kb(['create', 'shop-1', '-n', 'shop', '--tag', 'release=1']));
    expect(created.stdout).toMatch(
      /^backup shop-1 of namespace shop saved as snapshot [0-9a-f]{8} in /,
    );
    expect(created.stdout).toMatch(/new .* of .* \(\d+% already in the repository\)/);

    // the second one stores little: unchanged objects are not stored again
    const second = json<{
      name: string;
      bytesAdded: number;
      bytesTotal: number;
      resources: number;
    }>(await ok(kb(['create', 'shop-2', '-n', 'shop', '--json'])));
    expect(second.name).toBe('shop-2');
    expect(second.bytesAdded).toBeLessThan(second.bytesTotal);

    const list = json<
      Array<{
        name: string;
        namespace: string;
        resources: number;
        tags: string[];
        sizeAdded: number;
      }>
    >(await ok(kb(['list', '-n', 'shop', '-o', 'json'])));
    expect(list.map((b) => b.name)).toEqual(['shop-1', 'shop-2']);
    expect(list[1]!.sizeAdded).toBeLessThan(list[0]!.sizeAdded);
    expect(list[0]).toMatchObject({ namespace: 'shop', tags: ['release=1'] });
    expect(list[0]!.resources).toBeGreaterThanOrEqual(before.length);
    expect((await ok(kb(['list', '-A', '-o', 'name']))).stdout).toBe('shop-1\nshop-2\n');

    const described = await ok(kb(['describe', 'shop-1']));
    expect(described.stdout).toMatch(/^Name: +shop-1\nNamespace: +shop\n/);
    expect(described.stdout).toContain('Deployment');
    expect(described.stdout).toMatch(
      /Images:\n {2}OWNER +CONTAINER +IMAGE +DIGEST\n {2}Deployment\/frontend/,
    );
  });

  it('restores the namespace after it was deleted, and into another namespace', async () => {
    await ok(kubectl(['delete', 'namespace', 'shop', '--wait=false']));
    await waitFor('namespace shop deleted', () => namespaceGone('shop'));

    const restored = await ok(kb(['restore', 'shop-1', '--wait-timeout', '60s']));
    expect(restored.stdout).toMatch(/restored backup shop-1 into namespace shop: \d+ created/);
    expect(await inventory('shop')).toEqual(before);
    await waitFor('restored guestbook ready', () => ready('shop'));
    const cm = await getJson<Obj>(['configmap', 'settings', '-n', 'shop']);
    expect(cm.data).toEqual({ color: 'blue' });

    await ok(kb(['restore', 'shop-1', '--target-namespace', 'shop-copy', '--no-wait']));
    expect(await inventory('shop-copy')).toEqual(before);
  });

  it('restore --dry-run prints the plan and the diff, and changes nothing', async () => {
    await ok(kubectl(['create', 'configmap', 'extra', '-n', 'shop']));
    await ok(
      kubectl(['patch', 'configmap', 'settings', '-n', 'shop', '-p', '{"data":{"color":"red"}}']),
    );
    const cmBefore = await getJson<Obj>(['configmap', 'settings', '-n', 'shop']);
    const audit = (await ok(kb(['audit', '-o', 'json']))).stdout;

    const dry = await ok(kb(['restore', 'shop-1', '--dry-run', '--existing', 'update']));
    expect(dry.stdout).toMatch(/update +ConfigMap +settings/);
    expect(dry.stdout).toMatch(/~ data\.color: "red" → "blue"/);
    expect(dry.stdout).toContain('dry run: nothing was changed');

    const cmAfter = await getJson<Obj>(['configmap', 'settings', '-n', 'shop']);
    expect(cmAfter.data).toEqual({ color: 'red' });
    expect(cmAfter.metadata).toEqual(cmBefore.metadata);
    expect((await ok(kb(['audit', '-o', 'json']))).stdout).toBe(audit);

    const plan = json<{
      dryRun: boolean;
      items: Array<{ kind: string; name: string; action: string }>;
    }>(await ok(kb(['restore', 'shop-1', '--dry-run', '-o', 'json'])));
    expect(plan.dryRun).toBe(true);
    expect(plan.items).toContainEqual(
      expect.objectContaining({ kind: 'ConfigMap', name: 'settings', action: 'skip' }),
    );
  });

  it('diffs a backup against the cluster and against another backup', async () => {
    const diff = await ok(kb(['diff', 'shop-1', '--cluster']));
    expect(diff.stdout).toMatch(/\+ +ConfigMap +extra/);
    expect(diff.stdout).toMatch(/~ +ConfigMap +settings/);
    const between = json<{ summary: { changed: number; added: number; removed: number } }>(
      await ok(kb(['diff', 'shop-1', 'shop-2', '-o', 'json'])),
    );
    expect(between.summary).toMatchObject({ added: 0, removed: 0 });

    const conflict = await kb(['diff', 'shop-1', 'shop-2', '--cluster']);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain('--cluster');
  });

  it('shows the operation log, and the audit log verifies', async () => {
    const logs = await ok(kb(['logs', 'shop-1']));
    expect(logs.stdout).toMatch(/info +start +backup shop-1 of namespace shop/);
    const entries = json<Array<{ event: string }>>(
      await ok(kb(['logs', 'shop-1', '-o', 'json', '--level', 'debug'])),
    );
    expect(entries.some((e) => e.event === 'timing')).toBe(true);

    const audit = await ok(kb(['audit', '-n', 'shop']));
    expect(audit.stdout).toMatch(/backup\.create +shop-1 +success/);
    expect(audit.stdout).toMatch(/restore\.create +shop-1 +success/);
    const verified = await ok(kb(['audit', '--verify']));
    expect(verified.stdout).toMatch(/^audit log verified: \d+ entries, chain intact\n$/);
  });

  it('gives the namespace-limited user a clear Forbidden error', async () => {
    const r = await kb(['create', '-n', 'shop', '--context', 'dev']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^error: .*forbidden/i);
    expect(r.stderr).toContain('kubectl auth can-i');

    const restore = await kb([
      'restore',
      'shop-1',
      '--target-namespace',
      'other',
      '--context',
      'dev',
    ]);
    expect(restore.code).not.toBe(0);
    expect(restore.stderr).toContain('kubectl auth can-i');
    expect(await namespaceGone('other')).toBe(true);
  });

  it('reports unknown backups, missing contexts and namespaces clearly', async () => {
    const unknown = await kb(['describe', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'error: no backup named "nope" in the repository (see `kubectl backup list -A`)\n',
    );
    const restore = await kb(['restore', 'nope']);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('no backup named "nope"');

    const ctx = await kb(['create', '-n', 'shop', '--context', 'prod']);
    expect(ctx.code).toBe(1);
    expect(ctx.stderr).toMatch(/^error: context "prod" is not in the kubeconfig/);

    const ns = await kb(['create', '-n', 'missing']);
    expect(ns.code).toBe(1);
    expect(ns.stderr).toMatch(/^error: namespace "missing" does not exist/);

    const flags = await kb(['list', '-n', 'shop', '-A']);
    expect(flags.code).toBe(2);
  });

  it('forgets by policy and deletes backups', async () => {
    // --tag narrows what the policy considers: only shop-1 carries release=1
    const tagged = json<{ backups: Array<{ name: string; action: string }> }>(
      await ok(
        kb([
          'forget',
          '-n',
          'shop',
          '--tag',
          'release=1',
          '--keep-last',
          '1',
          '--dry-run',
          '-o',
          'json',
        ]),
      ),
    );
    expect(tagged.backups).toEqual([expect.objectContaining({ name: 'shop-1', action: 'keep' })]);
    const dry = await ok(kb(['forget', '-n', 'shop', '--keep-last', '1', '--dry-run']));
    expect(dry.stdout).toMatch(/shop-1 .*would remove/);
    expect(json<unknown[]>(await ok(kb(['list', '-n', 'shop', '-o', 'json'])))).toHaveLength(2);

    await ok(kb(['forget', '-n', 'shop', '--keep-last', '1']));
    expect((await ok(kb(['list', '-n', 'shop', '-o', 'name']))).stdout).toBe('shop-2\n');

    const del = await ok(kb(['delete', 'shop-2', '--prune']));
    expect(del.stdout).toMatch(/^deleted backup shop-2 of namespace shop/);
    expect((await ok(kb(['list', '-A']))).stdout).toBe('no backups\n');
    expect((await ok(kb(['audit']))).stdout).toMatch(/backup\.delete +shop-2 +success/);
  });
});
