/** Verify, delete, help, quit, the header's lock/audit states, NO_COLOR, larger terminals. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { expectFits, KEY, renderApp } from '../test-util/ink.js';
import { fixtureService, header, verifyResult } from '../test-util/tui-fixtures.js';

afterEach(() => cleanup());

describe('verify', () => {
  it('runs a restore test and shows a passed result', async () => {
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press('v');
    await screen.see('Verify shop-nightly-3', 'quick', 'read all data', 'restore test');
    await screen.press(KEY.down, KEY.down, KEY.enter);
    await screen.see('Verify shop-nightly-3   (Esc cancels)');
    expect(service.calls).toContain('verify shop-nightly-3 restore-test');
    service.running!.deferred.resolve(verifyResult('passed'));
    const frame = await screen.see(
      'verification passed (restore test in verify-shop-nightly-3-abc123)',
      '✓ items: 16 items readable',
      '✓ restore test',
    );
    expectFits(frame);
    await screen.press(KEY.enter);
    await screen.see('1 backups (2)');
  });

  it('shows a failed verification with its problems', async () => {
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press('v', KEY.enter);
    expect(service.calls).toContain('verify shop-nightly-3 quick');
    service.running!.deferred.resolve(verifyResult('failed'));
    await screen.see(
      'verification failed',
      '✗ restore test',
      'ConfigMap settings: data.color differs',
    );
  });
});

describe('delete', () => {
  it('asks first, then deletes the selected backup', async () => {
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press(KEY.down, 'd');
    await screen.see(
      'Delete backup shop-before-upgrade',
      'Delete it? y to delete, n or Esc to keep it',
    );
    await screen.press('n');
    await screen.see('1 backups (2)');
    expect(service.calls).toEqual([]);
    await screen.press('d', 'y');
    await screen.see('✓ deleted backup shop-before-upgrade');
    expect(service.calls).toEqual(['delete shop-before-upgrade']);
  });
});

describe('app', () => {
  it('shows the help and closes it; q quits', async () => {
    const screen = renderApp(fixtureService());
    await screen.see('team-a');
    await screen.press('?');
    const frame = await screen.see(
      'Keys',
      'restore the selected backup',
      'Status: ok backed up within the RPO (24h)',
    );
    expectFits(frame);
    await screen.press(KEY.escape);
    await screen.see('Namespaces (5)');
    await screen.press('q');
    // Ink unmounted the app: nothing reacts any more
    await screen.press('?');
    expect(screen.frame()).not.toContain('Keys');
  });

  it('shows a held lock and a broken audit chain in the header', async () => {
    const service = fixtureService({
      header: async () =>
        header({
          health: {
            lock: 'locked',
            lockDetail: 'an exclusive lock held by bob@ci (pid 7)',
            audit: { ok: false, entries: 9, firstBad: { seq: 3, key: 'k', reason: 'bad mac' } },
          },
        }),
    });
    const screen = renderApp(service);
    await screen.see('locked', 'audit BROKEN at #3');
  });

  it('tells when the cluster cannot be reached', async () => {
    const screen = renderApp(
      fixtureService({ header: () => Promise.reject(new Error('connect ECONNREFUSED')) }),
    );
    await screen.see('kubectl backup cannot reach the cluster or repository');
  });

  it('uses the larger terminal it is given', async () => {
    const size = { columns: 120, rows: 40 };
    const screen = renderApp(fixtureService(), { namespace: 'shop' }, size);
    const frame = await screen.see('shop-nightly-3', 'Warnings: none');
    expect(frame.split('\n')[2]).toBe('─'.repeat(120));
    expect(frame.split('\n')).toHaveLength(39);
    expectFits(frame, size);
  });
});
