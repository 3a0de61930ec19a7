/**
 * Ctrl-C, SIGTERM and SIGHUP during the demo: the first one aborts `signal` (the step in
 * progress stops cleanly, or the wait for Ctrl-C ends); a second one exits at once (kube-sim
 * still gets its SIGTERM on the way out).
 */
import { EXIT_INTERRUPTED } from '../io.js';

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export class Interrupted extends Error {
  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted (${signalName})`);
    this.name = 'Interrupted';
  }
}

export class Interrupts {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  constructor() {
    for (const s of SIGNALS) process.on(s, this.onSignal);
  }

  private readonly onSignal = (name: NodeJS.Signals): void => {
    if (this.signal.aborted) process.exit(EXIT_INTERRUPTED);
    this.controller.abort(new Interrupted(name));
  };

  /** Resolves with the signal's name on the first signal. */
  wait(): Promise<NodeJS.Signals> {
    return new Promise((resolve) => {
      const done = () => resolve((this.signal.reason as Interrupted).signalName);
      if (this.signal.aborted) done();
      else this.signal.addEventListener('abort', done, { once: true });
    });
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.onSignal);
  }
}
