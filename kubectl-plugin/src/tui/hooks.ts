/** Small hooks of the TUI: terminal size (follows resizes) and data loading. */
import { useInput, useStdout } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Size {
  columns: number;
  rows: number;
}

/** The terminal's size, updated on resize; `fixed` (tests) wins. At least 80×24 is assumed. */
export function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = useCallback(
    (): Size => ({ columns: stdout.columns || 80, rows: stdout.rows || 24 }),
    [stdout],
  );
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (fixed) return;
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, read, fixed]);
  return fixed ?? size;
}

export type Loaded<T> =
  | { state: 'loading'; data?: T }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: unknown; data?: T };

/**
 * Runs `load` now and whenever `reload()` is called or `key` changes; an older answer that
 * arrives late never replaces a newer one. Keeps the data shown while reloading the same key.
 */
export function useLoader<T>(
  load: (signal: AbortSignal) => Promise<T>,
  key: string,
): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyRef = useRef(key);
  useEffect(() => {
    const abort = new AbortController();
    const sameKey = keyRef.current === key;
    keyRef.current = key;
    setResult((r) =>
      sameKey && r.data !== undefined ? { state: 'loading', data: r.data } : { state: 'loading' },
    );
    loadRef.current(abort.signal).then(
      (data) => {
        if (!abort.signal.aborted) setResult({ state: 'ready', data });
      },
      (error: unknown) => {
        if (!abort.signal.aborted) setResult((r) => ({ state: 'error', error, data: r.data }));
      },
    );
    return () => abort.abort();
  }, [key, generation]);
  return [result, useCallback(() => setGeneration((g) => g + 1), [])];
}

type KeyHandler = Parameters<typeof useInput>[0];

/**
 * useInput whose handler always sees the latest render: Ink subscribes handlers in an effect,
 * so a key typed right after new data arrives could otherwise reach the previous closure.
 */
export function useKeys(handler: KeyHandler, options: { isActive: boolean }): void {
  const latest = useRef(handler);
  latest.current = handler;
  const stable = useCallback<KeyHandler>((input, key) => latest.current(input, key), []);
  useInput(stable, options);
}
