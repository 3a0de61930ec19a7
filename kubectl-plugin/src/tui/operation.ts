/**
 * Running one library operation from a screen: an AbortController (also aborted by the
 * process's SIGINT/SIGTERM signal), progress folded into a ProgressState, a clock for rates,
 * and the outcome — done, failed, or canceled (the library then left the repository clean).
 */
import { useCallback, useContext, useEffect, useRef, useState, createContext } from 'react';
import { initialProgress, reduceProgress, type ProgressState } from './progress-model.js';
import type { OperationOptions } from './service.js';

/** What the app shares with the screens that run operations. */
export interface OperationHost {
  /** The process's signal (SIGINT/SIGTERM): aborts the running operation. */
  signal?: AbortSignal;
  /** Tells the app whether an operation runs (it waits for it before exiting). */
  setBusy(busy: boolean): void;
  /** Clock (tests pass a fixed one). */
  now(): number;
}

export const OperationContext = createContext<OperationHost>({
  setBusy: () => undefined,
  now: Date.now,
});

export type OperationState<T> =
  | { status: 'idle' }
  | { status: 'running'; cancelling: boolean }
  | { status: 'done'; result: T }
  | { status: 'failed'; error: unknown }
  | { status: 'canceled'; error: unknown };

export interface Operation<T> {
  state: OperationState<T>;
  progress: ProgressState;
  now: number;
  start(run: (op: OperationOptions) => Promise<T>): void;
  cancel(): void;
}

export function useOperation<T>(): Operation<T> {
  const host = useContext(OperationContext);
  const [state, setState] = useState<OperationState<T>>({ status: 'idle' });
  const [progress, setProgress] = useState(() => initialProgress(host.now()));
  const [now, setNow] = useState(host.now());
  const controller = useRef<AbortController | undefined>(undefined);
  const mounted = useRef(true);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      controller.current?.abort();
    };
  }, []);

  const running = state.status === 'running';
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => setNow(host.now()), 500);
    return () => clearInterval(timer);
  }, [running, host]);

  const start = useCallback(
    (run: (op: OperationOptions) => Promise<T>) => {
      const own = new AbortController();
      controller.current = own;
      const signal = host.signal ? AbortSignal.any([own.signal, host.signal]) : own.signal;
      const t0 = host.now();
      setProgress(initialProgress(t0));
      setNow(t0);
      setState({ status: 'running', cancelling: false });
      host.setBusy(true);
      run({
        signal,
        onProgress: (e) => {
          if (mounted.current) setProgress((p) => reduceProgress(p, e, host.now()));
        },
      }).then(
        (result) => {
          host.setBusy(false);
          if (mounted.current) setState({ status: 'done', result });
        },
        (error: unknown) => {
          host.setBusy(false);
          if (mounted.current)
            setState(signal.aborted ? { status: 'canceled', error } : { status: 'failed', error });
        },
      );
    },
    [host],
  );

  const cancel = useCallback(() => {
    if (!controller.current || controller.current.signal.aborted) return;
    controller.current.abort();
    setState((s) => (s.status === 'running' ? { status: 'running', cancelling: true } : s));
  }, []);

  return { state, progress, now, start, cancel };
}
