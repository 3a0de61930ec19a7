/** Colours on a colour terminal, none with NO_COLOR (chalk is forced to colour for this file). */
import { vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

const { cleanup } = await import('ink-testing-library');
const { afterEach, describe, expect, it } = await import('vitest');
const { renderApp } = await import('../test-util/ink.js');
const { fixtureService } = await import('../test-util/tui-fixtures.js');
const { COLORS, themeFor } = await import('./theme.js');

afterEach(() => cleanup());

/** A foreground colour: ESC [ 3x m or ESC [ 9x m. */
const COLOR = new RegExp(`${'\u001B'}\\[(3[0-7]|9[0-7])m`);

describe('NO_COLOR', () => {
  it('colours statuses by default and nothing with NO_COLOR', async () => {
    expect(themeFor({})).toBe(COLORS);
    const coloured = renderApp(fixtureService(), { theme: themeFor({}) });
    await coloured.see('team-a');
    expect(coloured.instance.lastFrame()).toMatch(COLOR);
    cleanup();
    const plain = renderApp(fixtureService(), { theme: themeFor({ NO_COLOR: '1' }) });
    await plain.see('team-a');
    const raw = plain.instance.lastFrame() ?? '';
    expect(raw).not.toMatch(COLOR);
    // the selection is still visible: inverse is not a colour
    expect(raw).toContain('\u001B[7m');
  });
});
