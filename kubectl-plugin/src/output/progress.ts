/**
 * One stream of engine progress events, three renderers:
 * - `--json`: one JSON object per line on **stderr** (`{"type":"progress",…}`), so stdout keeps
 *   only the command's result;
 * - a terminal on stderr: one line, rewritten in place (files, bytes, throughput, added);
 * - otherwise (pipes, mover pods): nothing.
 */
import type { ProgressEvent, ProgressListener } from '@kubectl-backup/engine';
import type { CliIO, OutStream } from '../io.js';
import { formatBytes, formatRate } from './format.js';
import { writeJsonLine } from './json.js';

export interface ProgressRenderer {
  readonly onProgress: ProgressListener;
  /** Clears the live line (call before printing results, also after a failure). */
  end(): void;
}

export interface ProgressOptions {
  json?: boolean;
  /** Allow the live terminal line (default true; mover commands keep plain output). */
  live?: boolean;
}

export function createProgress(io: CliIO, options: ProgressOptions): ProgressRenderer {
  if (options.json) return jsonProgress(io.stderr);
  if (io.stderr.isTTY && options.live !== false) return ttyProgress(io.stderr);
  return { onProgress: () => undefined, end: () => undefined };
}

function jsonProgress(out: OutStream): ProgressRenderer {
  const started = Date.now();
  return {
    onProgress: (event) =>
      writeJsonLine(out, { type: 'progress', ...event, elapsedMs: Date.now() - started }),
    end: () => undefined,
  };
}

export function progressLine(event: ProgressEvent, elapsedMs: number): string {
  const parts = [
    event.phase,
    `${event.filesDone}/${event.filesTotal} files`,
    `${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}`,
    formatRate(event.bytesDone, elapsedMs),
  ];
  if (event.bytesAdded !== undefined && event.phase === 'backup')
    parts.push(`added ${formatBytes(event.bytesAdded)}`);
  if (event.currentItem && !event.done) parts.push(event.currentItem);
  return parts.join('  ');
}

function ttyProgress(out: OutStream): ProgressRenderer {
  const started = Date.now();
  let shown = false;
  return {
    onProgress: (event) => {
      const width = Math.max(20, (out.columns ?? 100) - 1);
      out.write(`\r\u001b[2K${progressLine(event, Date.now() - started).slice(0, width)}`);
      shown = true;
    },
    end: () => {
      if (shown) out.write('\r\u001b[2K');
      shown = false;
    },
  };
}

/** Runs `fn` with a progress listener rendered for this terminal/flags; clears the line after. */
export async function withProgress<T>(
  io: CliIO,
  options: ProgressOptions,
  fn: (onProgress: ProgressListener) => Promise<T>,
): Promise<T> {
  const progress = createProgress(io, options);
  try {
    return await fn(progress.onProgress);
  } finally {
    progress.end();
  }
}
