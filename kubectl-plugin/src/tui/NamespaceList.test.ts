/** The namespaces screen: statuses by the RPO, forbidden namespaces, filter, empty cluster, 80×24. */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { expectFits, KEY, renderApp } from '../test-util/ink.js';
import { fixtureService, listing } from '../test-util/tui-fixtures.js';

afterEach(() => cleanup());

const rowOf = (frame: string, name: string) =>
  frame.split('\n').find((l) => l.trimStart().startsWith(`${name} `)) ?? '';

describe('namespaces screen', () => {
  it('shows the header and every namespace with status, age, size and schedule at 80×24', async () => {
    const screen = renderApp(fixtureService());
    const frame = await screen.see('Namespaces (5)', 'team-a');
    expect(frame).toContain('context prod (prod-eu)');
    expect(frame).toContain('user alice@example.com');
    expect(frame).toContain('repo s3://backups/prod');
    expect(frame).toContain('unlocked');
    expect(frame).toContain('audit chain ok (12)');
    expect(rowOf(frame, 'shop')).toMatch(/shop\s+ok\s+2h ago\s+6\.00 MiB\s+2 0 2 \* \* \*/);
    expect(rowOf(frame, 'team-a')).toMatch(/team-a\s+stale\s+3d ago/);
    expect(rowOf(frame, 'team-a')).toMatch(/ -$/); // no schedule
    expect(rowOf(frame, 'billing')).toMatch(/billing\s+failed\s+2d ago/);
    expect(rowOf(frame, 'new-app')).toMatch(/new-app\s+never\s+-/);
    expect(rowOf(frame, 'payments')).toMatch(/payments\s+forbidden\s+never/);
    expect(frame).toMatch(/Enter open\s+\/ filter\s+b back up\s+\? help\s+q quit/);
    expectFits(frame);
  });

  it('filters as you type after /, and Enter opens the match', async () => {
    const service = fixtureService();
    const screen = renderApp(service);
    await screen.see('team-a');
    await screen.press('/', 's', 'h');
    let frame = await screen.see('filter: sh', 'Namespaces (1 of 5)');
    expect(frame).toContain('shop');
    expect(frame).not.toContain('team-a');
    await screen.press('x');
    frame = await screen.see('no namespace matches "shx"');
    await screen.press('\u007F'); // backspace
    await screen.see('Namespaces (1 of 5)');
    await screen.press(KEY.enter);
    frame = await screen.see('1 backups (2)', 'shop-nightly-3');
    // Esc goes back to the list, which kept its filter
    await screen.press(KEY.escape);
    await screen.see('filter: sh', 'Namespaces (1 of 5)');
  });

  it('says so when namespaces cannot be listed, and shows an empty cluster', async () => {
    const partial = renderApp(
      fixtureService({
        namespaces: async () =>
          listing({
            rows: [
              {
                name: 'team-a',
                access: 'allowed',
                inCluster: 'unknown',
                backups: 0,
                status: 'never',
              },
            ],
            notice:
              "you may not list namespaces: showing team-a (the context's) and those with backups",
          }),
      }),
    );
    await partial.see('you may not list namespaces', 'team-a');
    cleanup();
    const empty = renderApp(fixtureService({ namespaces: async () => ({ rows: [] }) }));
    const frame = await empty.see('Namespaces (0)', 'no namespaces');
    expectFits(frame);
  });

  it('moves with the arrows and opens the selected namespace', async () => {
    const screen = renderApp(fixtureService());
    await screen.see('team-a');
    await screen.press(KEY.down, KEY.down, KEY.down, KEY.enter);
    await screen.see('shop  ', '1 backups (2)');
  });

  it('shows an error from the service instead of the list', async () => {
    const screen = renderApp(
      fixtureService({
        namespaces: async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6443')),
      }),
    );
    await screen.see('error: connect ECONNREFUSED 127.0.0.1:6443');
  });
});
