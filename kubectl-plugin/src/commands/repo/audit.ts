/** `kubectl backup repo audit [--verify]`: the repository's audit log. */
import { readAuditLog, type AuditEntry } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { auditColumns, verifyAuditChain } from '../../output/audit.js';
import { writeJson } from '../../output/json.js';
import { writeTable } from '../../output/table.js';
import type { Session } from '../../session.js';
import { outputOption, parseCount, type OutputFormat } from '../options.js';

interface AuditFlags {
  verify?: boolean;
  since?: number;
  output: OutputFormat;
}

export function registerAudit(parent: Command, session: Session): void {
  parent
    .command('audit')
    .description(
      'show the audit log (who did what, when, with which outcome); --verify checks its hash chain',
    )
    .option('--verify', 'verify the whole chain and report the first bad entry (exit 1 if any)')
    .option('--since <seq>', 'only entries from this sequence number on', parseCount)
    .addOption(outputOption())
    .action((opts: AuditFlags, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const out = session.io.stdout;
        if (opts.verify) return verifyAuditChain(repo, out, opts.output);
        const entries = await readAuditLog(repo, { since: opts.since });
        if (opts.output === 'json') return writeJson(out, entries);
        writeTable<AuditEntry>(
          out,
          entries,
          auditColumns((e) => (e.target ?? '').slice(0, 16)),
          'the audit log is empty',
        );
      }),
    );
}
