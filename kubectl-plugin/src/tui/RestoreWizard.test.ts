/** `r`: every step of the restore wizard, the dry run before a typed confirmation, the result. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { expectFits, KEY, renderApp } from '../test-util/ink.js';
import { fixtureService, restoreResult, type FixtureService } from '../test-util/tui-fixtures.js';
import { parseResourceFilter } from './RestoreWizard.js';

afterEach(() => cleanup());

async function openWizard(service: FixtureService) {
  const screen = renderApp(service, { namespace: 'shop' });
  await screen.see('shop-nightly-3');
  await screen.press('r');
  await screen.see(
    'Restore shop-nightly-3 (namespace shop)',
    'target › resources › existing',
    'Restore into which namespace?',
  );
  return screen;
}

describe('restore wizard', () => {
  it('walks target → resources → policy → volumes → dry run → confirmation → progress → result', async () => {
    const service = fixtureService();
    const screen = await openWizard(service);
    let frame = screen.frame();
    expect(frame).toContain('› shop');
    expect(frame).toContain('the backup is of namespace shop');
    expectFits(frame);

    // target: a bad name is refused, then a new namespace
    await screen.press('\u007F', '\u007F', '\u007F', '\u007F', 'S', '_', KEY.enter);
    await screen.see('"S_" is not a valid namespace name');
    await screen.press('\u007F', '\u007F', ...'shop-copy', KEY.enter);
    await screen.see('Which resources?');
    await screen.press(...'-secrets', KEY.enter);
    await screen.see('Objects that exist already in shop-copy:', 'skip', 'update', 'recreate');
    await screen.press(KEY.down, KEY.enter); // update
    frame = await screen.see('Restore PVC data? (the backup has 1 volume(s))');
    await screen.press(KEY.enter); // yes
    frame = await screen.see(
      'dry run: would create 2, update 1 (4 filtered out) in shop-copy, existing',
    );
    expect(service.calls.find((c) => c.startsWith('plan'))).toBe(
      `plan ${JSON.stringify({ backup: 'shop-nightly-3', targetNamespace: 'shop-copy', includeResources: [], excludeResources: ['secrets'], existing: 'update', volumes: true })}`,
    );
    expect(frame).toMatch(/create\s+Deployment\s+frontend/);
    expect(frame).toMatch(/update\s+ConfigMap\s+settings\s+1/);
    expect(frame).toContain('in the cluster, not in the backup (left alone): ConfigMap/local-only');
    expect(frame).toContain('volume data: redis-data (5.00 MiB)');
    expect(frame).toContain('type shop-copy and Enter to restore');
    expectFits(frame);
    // the diff of the selected object
    await screen.press(KEY.down, KEY.down);
    await screen.see('diff of ConfigMap settings (live → backup):', '~ data.color: "red" → "blue"');

    // a wrong confirmation changes nothing
    await screen.press(...'shop', KEY.enter);
    await screen.see('that is not "shop-copy": nothing was changed');
    expect(service.calls.some((c) => c.startsWith('restore'))).toBe(false);
    await screen.press(...'-copy', KEY.enter);
    await screen.see('Restoring shop-nightly-3 into shop-copy');
    const request = JSON.parse(service.calls.find((c) => c.startsWith('restore '))!.slice(8));
    expect(request).toEqual({
      backup: 'shop-nightly-3',
      targetNamespace: 'shop-copy',
      includeResources: [],
      excludeResources: ['secrets'],
      existing: 'update',
      volumes: true,
    });

    service.running!.options.onProgress!({
      operation: 'restore',
      phase: 'apply',
      message: 'created Deployment frontend',
      done: 1,
      total: 3,
    });
    await screen.see('objects applied', '1/3', 'applying: created Deployment frontend');
    service.running!.deferred.resolve(restoreResult(request));
    frame = await screen.see(
      'restore partial',
      '1 created, 0 updated, 0 unchanged, 1 skipped, 1 failed',
    );
    expect(frame).toMatch(/created\s+Deployment\s+frontend/);
    expect(frame).toMatch(/failed\s+Service\s+frontend\s+port 30080 is taken/);
    expect(frame).toMatch(/skipped\s+ConfigMap\s+settings\s+exists/);
    expect(frame).toContain('volume redis-data: restored');
    expect(frame).toContain('record shop-nightly-3-restore-20261121t120000z');
    expectFits(frame);
    await screen.press(KEY.enter);
    await screen.see('1 backups (2)');
  });

  it('goes back a step with Esc and leaves from the first step', async () => {
    const service = fixtureService();
    const screen = await openWizard(service);
    await screen.press(KEY.enter);
    await screen.see('Which resources?');
    await screen.press(KEY.escape);
    await screen.see('Restore into which namespace?');
    await screen.press(KEY.escape);
    await screen.see('1 backups (2)');
    expect(service.calls).toEqual([]);
  });

  it('refuses to go on when the plan lacks permissions', async () => {
    const base = fixtureService();
    const service = fixtureService({
      planRestore: async (request) => {
        const p = await base.planRestore(request);
        p.plan.permissions.missing.push({
          verb: 'create',
          group: 'apps',
          resource: 'deployments',
          namespace: 'shop',
        });
        return p;
      },
    });
    const screen = await openWizard(service);
    await screen.press(KEY.enter, KEY.enter, KEY.enter, KEY.enter);
    await screen.see(
      'missing permission: create deployments.apps in shop',
      'the restore would be refused',
    );
  });

  it('shows a failed dry run', async () => {
    const service = fixtureService({
      planRestore: async () => {
        throw new Error('namespace "shop" is terminating');
      },
    });
    const screen = await openWizard(service);
    await screen.press(KEY.enter, KEY.enter, KEY.enter, KEY.enter);
    await screen.see('the dry run failed: namespace "shop" is terminating');
  });

  it('parses the resource filter', () => {
    expect(parseResourceFilter('deployments, services -secrets !configmaps')).toEqual({
      include: ['deployments', 'services'],
      exclude: ['secrets', 'configmaps'],
    });
    expect(parseResourceFilter('  ')).toEqual({ include: [], exclude: [] });
  });
});
