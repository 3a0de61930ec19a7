/**
 * `kubectl backup tui`: runs the full-screen app on the terminal (alternate screen, raw mode)
 * and always gives the terminal back as it was — on quit, on SIGINT/SIGTERM, and on a crash.
 */
import { render } from 'ink';
import { createElement } from 'react';
import { App } from './App.js';
import type { TuiService } from './service.js';
import { KeyByKeyInput } from './keys.js';
import { themeFor } from './theme.js';

export type { TuiService } from './service.js';
export { createClusterService, type ClusterServiceOptions } from './cluster-service.js';

export interface RunTuiOptions {
  service: TuiService;
  /** The RPO as given (shown in the header). */
  rpo: string;
  /** Open this namespace first. */
  namespace?: string;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
  /** Aborted by SIGINT/SIGTERM: the running operation is cancelled, then the app quits. */
  signal?: AbortSignal;
}

const ALT_SCREEN_ON = '\u001b[?1049h\u001b[H';
const ALT_SCREEN_OFF = '\u001b[?1049l';
const SHOW_CURSOR = '\u001b[?25h';
const CLEAR = '\u001b[2J\u001b[H';

/** Puts the terminal back: cooked mode, cursor shown, main screen. Safe to call twice. */
export function terminalRestorer(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream) {
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // the terminal may be gone already
    }
    stdout.write(SHOW_CURSOR + ALT_SCREEN_OFF);
  };
}

export async function runTui(options: RunTuiOptions): Promise<void> {
  const { stdin, stdout } = options;
  const restore = terminalRestorer(stdin, stdout);
  const onCrash = (err: unknown) => {
    restore();
    options.stderr.write(
      `error: the terminal UI crashed: ${(err as Error)?.stack ?? String(err)}\n`,
    );
    process.exit(1);
  };
  // before Ink's own resize handler: a clean screen, then the app redraws at the new size
  const onResize = () => stdout.write(CLEAR);
  process.once('exit', restore);
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  stdout.on('resize', onResize);
  stdout.write(ALT_SCREEN_ON);
  const keys = new KeyByKeyInput(stdin);
  try {
    const app = render(
      createElement(App, {
        service: options.service,
        rpo: options.rpo,
        theme: themeFor(options.env),
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
      {
        stdin: keys as unknown as NodeJS.ReadStream,
        stdout,
        stderr: options.stderr,
        exitOnCtrlC: false,
      },
    );
    await app.waitUntilExit();
  } finally {
    keys.close();
    stdout.off('resize', onResize);
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    process.off('exit', restore);
    restore();
  }
}
