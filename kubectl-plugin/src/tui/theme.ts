/**
 * Colours of the TUI, off when NO_COLOR is set (https://no-color.org): every coloured Text
 * takes its colour from here, so with NO_COLOR the screens are plain (bold and inverse stay).
 */
import { createContext, useContext } from 'react';
import type { NamespaceStatus } from './service.js';

export interface Theme {
  ok?: string;
  warn?: string;
  bad?: string;
  muted?: string;
  accent?: string;
}

export const COLORS: Theme = {
  ok: 'green',
  warn: 'yellow',
  bad: 'red',
  muted: 'gray',
  accent: 'cyan',
};

export const PLAIN: Theme = {};

/** The theme for an environment: plain when NO_COLOR is set to anything but the empty string. */
export function themeFor(env: Record<string, string | undefined>): Theme {
  return env.NO_COLOR ? PLAIN : COLORS;
}

export const ThemeContext = createContext<Theme>(COLORS);

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

export function statusColor(theme: Theme, status: NamespaceStatus | string): string | undefined {
  switch (status) {
    case 'ok':
    case 'passed':
    case 'success':
      return theme.ok;
    case 'stale':
    case 'partial':
    case 'never':
    case 'canceled':
      return theme.warn;
    case 'failed':
    case 'failure':
    case 'forbidden':
    case 'denied':
      return theme.bad;
    default:
      return undefined;
  }
}
