/**
 * Driving the TUI in component tests: ink-testing-library with a fixed size, key codes, and
 * waiting until the last frame shows what a person would look for.
 */
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { expect, vi } from 'vitest';
import { App, type AppProps } from '../tui/App.js';
import { PLAIN } from '../tui/theme.js';
import { NOW, type FixtureService } from './tui-fixtures.js';

export const KEY = {
  up: '\u001B[A',
  down: '\u001B[B',
  enter: '\r',
  escape: '\u001B',
  tab: '\t',
  ctrlC: '\u0003',
} as const;

export interface Screen {
  frame(): string;
  /** Types keys, one write each (as a terminal delivers them), letting React settle between. */
  press(...keys: string[]): Promise<void>;
  /** Waits until the last frame contains every text. */
  see(...texts: string[]): Promise<string>;
  instance: ReturnType<typeof render>;
}

/** Lets React commit and run its effects (Ink subscribes key handlers in effects). */
const settle = () => new Promise((r) => setTimeout(r, 20));

const ANSI = new RegExp(`${'\u001B'}\\[[0-9;?]*[A-Za-z]`, 'g');
const strip = (s: string) => s.replace(ANSI, '');

export function renderApp(
  service: FixtureService,
  props: Partial<AppProps> = {},
  size = { columns: 80, rows: 24 },
): Screen {
  const instance = render(
    createElement(App, {
      service,
      rpo: '24h',
      theme: PLAIN,
      size,
      now: () => NOW,
      ...props,
    }),
  );
  const frame = () => strip(instance.lastFrame() ?? '');
  return {
    instance,
    frame,
    async press(...keys) {
      for (const k of keys) {
        instance.stdin.write(k);
        await settle();
      }
    },
    async see(...texts) {
      await vi.waitFor(
        () => {
          const f = frame();
          for (const t of texts) expect(f).toContain(t);
        },
        { timeout: 3000, interval: 20 },
      );
      await settle();
      return frame();
    },
  };
}

/** Every line fits the width, and the frame fits the height (one line is left for the cursor). */
export function expectFits(frame: string, size = { columns: 80, rows: 24 }): void {
  const lines = frame.split('\n');
  expect(lines.length).toBeLessThanOrEqual(size.rows - 1);
  for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(size.columns);
}
