/** Progress accounting shared by long operations: counts, plus throttled event emission. */
import type { ProgressEvent, ProgressListener, ProgressPhase } from './types.js';

export class Progress {
  filesDone = 0;
  filesTotal = 0;
  bytesDone = 0;
  bytesTotal = 0;
  bytesAdded = 0;
  currentItem?: string;
  private last = 0;

  constructor(
    private readonly phase: ProgressPhase,
    private readonly listener?: ProgressListener,
    private readonly intervalMs = 200,
  ) {}

  /** Emits an event unless one was emitted less than `intervalMs` ago. */
  tick(): void {
    if (!this.listener) return;
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.listener(this.event(false));
  }

  finish(): void {
    this.listener?.(this.event(true));
  }

  private event(done: boolean): ProgressEvent {
    return {
      phase: this.phase,
      filesDone: this.filesDone,
      filesTotal: Math.max(this.filesTotal, this.filesDone),
      bytesDone: this.bytesDone,
      bytesTotal: Math.max(this.bytesTotal, this.bytesDone),
      bytesAdded: this.bytesAdded,
      currentItem: this.currentItem,
      ...(done ? { done } : {}),
    };
  }
}
