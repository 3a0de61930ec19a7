/** `b`: live progress of a backup, cancelling it, a failed one, the summary of a finished one. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { expectFits, KEY, renderApp } from '../test-util/ink.js';
import { backupResult, fixtureService, NOW } from '../test-util/tui-fixtures.js';

afterEach(() => cleanup());

const MiB = 1024 * 1024;

describe('backup from the TUI', () => {
  it('shows live progress: types listed, bytes with rate and ETA, per-volume bars, dedup', async () => {
    let now = NOW;
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'shop', now: () => now });
    await screen.see('shop-nightly-3');
    await screen.press('b');
    await screen.see('Backing up namespace shop');
    expect(service.calls).toContain('backup shop');
    const emit = service.running!.options.onProgress!;
    emit({
      operation: 'backup',
      phase: 'capture',
      message: 'listed configmaps',
      done: 12,
      total: 40,
    });
    await screen.see('resource types listed  12/40', 'listing resources: listed configmaps');
    emit({
      operation: 'backup',
      phase: 'save',
      message: 'saving',
      done: 3,
      total: 20,
      bytesDone: 0,
      bytesTotal: 8 * MiB,
    });
    now += 2000;
    emit({
      operation: 'backup',
      phase: 'save',
      message: 'saving',
      done: 10,
      total: 20,
      bytesDone: 4 * MiB,
      bytesTotal: 8 * MiB,
      currentItem: 'volumes/redis-data.tar',
      bytesAdded: MiB,
    } as never);
    // the clock ticks every half second while an operation runs
    const frame = await screen.see(
      'items saved',
      '10/20',
      '4.00 MiB of 8.00 MiB',
      '2.00 MiB/s  ETA 2.0s',
    );
    expect(frame).toMatch(/redis-data\s+·+\s+4\.00 MiB/);
    expect(frame).toContain('dedup so far  75% already in the repository (new 1.00 MiB)');
    emit({ operation: 'backup', phase: 'save', message: 'a PVC could not be read', level: 'warn' });
    await screen.see('warning: a PVC could not be read');
    expectFits(screen.frame());

    service.running!.deferred.resolve(backupResult('shop-20261121t120000z'));
    const done = await screen.see('✓ backup shop-20261121t120000z saved as snapshot c0ffee00');
    expect(done).toContain('14 objects of 4 kinds, 1 volume(s) (5.00 MiB), 2 image(s)');
    expect(done).toContain('new 300 KiB of 6.00 MiB (95% already in the repository)');
    await screen.press(KEY.enter);
    await screen.see('1 backups (2)');
  });

  it('cancels with Esc: the operation is aborted and nothing is kept', async () => {
    const service = fixtureService();
    const screen = renderApp(service);
    await screen.see('team-a');
    await screen.press(KEY.down, KEY.down, KEY.down); // shop
    await screen.press('b');
    await screen.see('Backing up namespace shop');
    const signal = service.running!.options.signal!;
    expect(signal.aborted).toBe(false);
    await screen.press(KEY.escape);
    expect(signal.aborted).toBe(true);
    await screen.see('backup canceled: nothing was kept');
    await screen.press(KEY.escape);
    await screen.see('Namespaces (5)');
  });

  it('cancels with Ctrl-C instead of quitting while a backup runs', async () => {
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press('b');
    await screen.see('Backing up namespace shop');
    await screen.press(KEY.ctrlC);
    await screen.see('backup canceled');
    expect(service.running!.options.signal!.aborted).toBe(true);
  });

  it('shows why a backup failed', async () => {
    const service = fixtureService();
    const screen = renderApp(service, { namespace: 'billing' });
    await screen.see('no backups yet');
    await screen.press('b');
    await screen.see('Backing up namespace billing');
    service.running!.deferred.reject(
      new Error('pre-backup hook in pod db-0 failed (hook-on-error: Fail): exit code 1'),
    );
    await screen.see('backup failed: pre-backup hook in pod db-0 failed');
  });
});
