/** The audit log as both audit commands show it: the chain check, and the table's columns. */
import { verifyAuditLog, type AuditEntry, type Repository } from '@kubectl-backup/engine';
import type { OutStream } from '../io.js';
import { writeDocument, type ReadFormat } from '../k8s-output.js';
import { CliError } from './errors.js';
import { formatTime } from './format.js';
import type { Column } from './table.js';

/**
 * Verifies the whole chain. With `-o json|yaml` the result is printed as a document; else an
 * intact chain gets one line. A bad entry is an error naming it (exit 1).
 */
export async function verifyAuditChain(
  repo: Repository,
  out: OutStream,
  format: ReadFormat,
): Promise<void> {
  const result = await verifyAuditLog(repo);
  if (!writeDocument(out, format, result) && result.ok)
    out.write(`audit log verified: ${result.entries} entries, chain intact\n`);
  if (!result.ok) {
    const bad = result.firstBad!;
    throw new CliError(
      `audit log verification failed at entry ${bad.seq} (${bad.key}): ${bad.reason}`,
    );
  }
}

/** SEQ, TIME, ACTOR, ACTION, TARGET, OUTCOME, then `middle`, then DETAILS (the error, if any). */
export function auditColumns(
  target: (e: AuditEntry) => string,
  middle: Column<AuditEntry>[] = [],
): Column<AuditEntry>[] {
  return [
    { header: 'SEQ', value: (e) => String(e.seq), right: true },
    { header: 'TIME', value: (e) => formatTime(e.time) },
    { header: 'ACTOR', value: (e) => e.actor },
    { header: 'ACTION', value: (e) => e.action },
    { header: 'TARGET', value: target },
    { header: 'OUTCOME', value: (e) => e.outcome },
    ...middle,
    {
      header: 'DETAILS',
      value: (e) => (typeof e.details?.error === 'string' ? e.details.error : ''),
    },
  ];
}
