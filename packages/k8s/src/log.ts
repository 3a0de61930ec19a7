/**
 * The operation's own log (`meta/log.jsonl`): what was captured or skipped and why, warnings,
 * timings. Also the source of progress events; nothing here prints.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  /** Short machine name: `capture.type`, `skip.objects`, `apply.create`… */
  event: string;
  message: string;
  [field: string]: unknown;
}

/** Progress of a namespace operation (rendered by the CLI/TUI, or sent as JSON lines). */
export interface K8sProgressEvent {
  operation: 'backup' | 'restore' | 'verify' | 'diff';
  phase: 'connect' | 'discover' | 'capture' | 'hooks' | 'volumes' | 'save' | 'plan' | 'preflight' | 'apply' | 'wait' | 'record' | 'done';
  message: string;
  /** Items finished and known in this phase, when countable. */
  done?: number;
  total?: number;
  /** Engine progress while saving (bytes). */
  bytesDone?: number;
  bytesTotal?: number;
  /** While saving: bytes new to the repository so far, and the item being read. */
  bytesAdded?: number;
  currentItem?: string;
  level?: LogLevel;
}

export type ProgressCallback = (event: K8sProgressEvent) => void;

export class OperationLog {
  readonly entries: LogEntry[] = [];
  readonly warnings: string[] = [];
  private readonly started = Date.now();
  private phase: K8sProgressEvent['phase'] = 'connect';

  constructor(
    private readonly operation: K8sProgressEvent['operation'],
    private readonly onProgress?: ProgressCallback,
  ) {}

  add(level: LogLevel, event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ time: new Date().toISOString(), level, event, message, ...fields });
  }

  info(event: string, message: string, fields?: Record<string, unknown>): void {
    this.add('info', event, message, fields);
  }

  debug(event: string, message: string, fields?: Record<string, unknown>): void {
    this.add('debug', event, message, fields);
  }

  warn(event: string, message: string, fields?: Record<string, unknown>): void {
    this.add('warn', event, message, fields);
    this.warnings.push(message);
    this.onProgress?.({ operation: this.operation, phase: this.phase, message, level: 'warn' });
  }

  error(event: string, message: string, fields?: Record<string, unknown>): void {
    this.add('error', event, message, fields);
  }

  progress(phase: K8sProgressEvent['phase'], message: string, extra: Partial<K8sProgressEvent> = {}): void {
    this.phase = phase;
    this.onProgress?.({ operation: this.operation, phase, message, ...extra });
  }

  /** Records how long a phase took. */
  async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      this.debug('timing', `${phase} took ${Date.now() - t0} ms`, { phase, ms: Date.now() - t0 });
    }
  }

  elapsedMs(): number {
    return Date.now() - this.started;
  }

  toJsonl(): string {
    return this.entries.map((e) => JSON.stringify(e)).join('\n') + (this.entries.length ? '\n' : '');
  }
}
