/** One namespace: backups with the details pane, restore history, audit trail and its chain. */
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { expectFits, KEY, renderApp } from '../test-util/ink.js';
import { details, fixtureService, listing } from '../test-util/tui-fixtures.js';

afterEach(() => cleanup());

describe('namespace screen', () => {
  it('lists the backups and details the selected one', async () => {
    const screen = renderApp(fixtureService(), { namespace: 'shop' });
    let frame = await screen.see('Resources (14)', 'gb-frontend:v5');
    expect(frame).toMatch(/TIME\s+NAME\s+TRIGGER\s+RES VOL\s+NEW\/TOTAL VERIFIED/);
    expect(frame).toMatch(
      /11-21 10:00 shop-nightly-3\s+schedule\s+14\s+1\s+300 KiB\/6\.00 MiB passed/,
    );
    expect(frame).toMatch(
      /11-20 06:00 shop-before-upgrade\s+manual\s+14\s+1 6\.00 MiB\/6\.00 MiB -/,
    );
    expect(frame).toContain('shop-nightly-3  snapshot ');
    expect(frame).toContain('schedule nightly');
    expect(frame).toContain(
      'Resources (14): Deployment 3, Service 3, ConfigMap 2, PersistentVolumeClaim 1',
    );
    expect(frame).toContain('redis-data  5.00 MiB  fs  of 1Gi');
    expect(frame).toContain('gb-frontend:v5  @0123456789ab');
    expect(frame).toContain('redis:7  @no digest');
    expect(frame).toContain('Warnings: none');
    expectFits(frame);
    // the second backup's details follow the selection
    await screen.press(KEY.down);
    frame = await screen.see('shop-before-upgrade  snapshot', 'Warnings (1):');
    expect(frame).toContain('secrets: list forbidden, not captured');
  });

  it('shows the restore history and the audit trail with the chain verified', async () => {
    const screen = renderApp(fixtureService(), { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press(KEY.tab);
    let frame = await screen.see('FROM BACKUP');
    expect(frame).toMatch(
      /11-20 16:00 shop-before-upgrade-r…\s+shop-before-upgrade\s+shop-copy\s+success/,
    );
    await screen.press('3');
    frame = await screen.see('audit chain verified: 12 entries, intact');
    expect(frame).toMatch(/7 11-21 10:00 alice@laptop\s+backup\.create\s+shop-nightly-3\s+success/);
    expect(frame).toMatch(/5 11-20 16:00 alice@laptop\s+restore\.create/);
  });

  it('reports a broken audit chain', async () => {
    const service = fixtureService({
      namespace: async () =>
        details({
          auditChain: {
            ok: false,
            entries: 12,
            firstBad: { seq: 4, key: 'audit/000000000004-x', reason: 'prev does not match' },
          },
        }),
    });
    const screen = renderApp(service, { namespace: 'shop' });
    await screen.see('shop-nightly-3');
    await screen.press('3');
    await screen.see('audit chain BROKEN at entry 4: prev does not match');
  });

  it('marks a forbidden namespace and an empty one', async () => {
    const screen = renderApp(fixtureService(), { namespace: 'payments' });
    const frame = await screen.see(
      'forbidden: you may not list pods in payments',
      'no backups yet: press b to back up this namespace',
    );
    expect(frame).toContain('1 backups (0)');
    expect(listing().rows.find((r) => r.name === 'payments')?.access).toBe('forbidden');
    expectFits(frame);
  });
});
