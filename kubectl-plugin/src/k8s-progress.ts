/**
 * Progress of namespace operations (the library's K8sProgressEvent stream), rendered like the
 * engine's (output/progress.ts): `--json` → one `{"type":"progress",…}` line per event on
 * stderr; a terminal on stderr → one line rewritten in place; otherwise nothing (warnings are
 * part of the command's summary).
 */
import type { K8sProgressEvent, ProgressCallback } from '@kubectl-backup/k8s';
import type { CliIO } from './io.js';
import { formatBytes } from './output/format.js';
import { writeJsonLine } from './output/json.js';

export function k8sProgressLine(e: K8sProgressEvent): string {
  const parts: string[] = [e.phase];
  if (e.total !== undefined) parts.push(`${e.done ?? 0}/${e.total}`);
  if (e.bytesTotal !== undefined)
    parts.push(`${formatBytes(e.bytesDone ?? 0)}/${formatBytes(e.bytesTotal)}`);
  parts.push(e.level === 'warn' ? `warning: ${e.message}` : e.message);
  return parts.join('  ');
}

/** Runs `fn` with a progress callback for this terminal/flags; clears the live line after. */
export async function withK8sProgress<T>(
  io: CliIO,
  options: { json?: boolean },
  fn: (onProgress: ProgressCallback | undefined) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  if (options.json)
    return fn((e) =>
      writeJsonLine(io.stderr, { type: 'progress', ...e, elapsedMs: Date.now() - started }),
    );
  const out = io.stderr;
  if (!out.isTTY) return fn(undefined);
  let shown = false;
  try {
    return await fn((e) => {
      const width = Math.max(20, (out.columns ?? 100) - 1);
      out.write(
        `\r\u001b[2K${k8sProgressLine(e)
          .replace(/\s*\n\s*/g, ' ')
          .slice(0, width)}`,
      );
      shown = true;
    });
  } finally {
    if (shown) out.write('\r\u001b[2K');
  }
}
