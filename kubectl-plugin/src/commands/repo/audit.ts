/** `kubectl backup repo audit [--verify]`: the repository's audit log. */
import { readAuditLog, verifyAuditLog, type AuditEntry } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { CliError } from '../../output/errors.js';
import { formatTime } from '../../output/format.js';
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
        if (opts.verify) {
          const result = await verifyAuditLog(repo);
          if (opts.output === 'json') writeJson(out, result);
          else if (result.ok)
            out.write(`audit log verified: ${result.entries} entries, chain intact\n`);
          if (!result.ok) {
            const bad = result.firstBad!;
            throw new CliError(
              `audit log verification failed at entry ${bad.seq} (${bad.key}): ${bad.reason}`,
            );
          }
          return;
        }
        const entries = await readAuditLog(repo, { since: opts.since });
        if (opts.output === 'json') return writeJson(out, entries);
        writeTable<AuditEntry>(
          out,
          entries,
          [
            { header: 'SEQ', value: (e) => String(e.seq), right: true },
            { header: 'TIME', value: (e) => formatTime(e.time) },
            { header: 'ACTOR', value: (e) => e.actor },
            { header: 'ACTION', value: (e) => e.action },
            { header: 'TARGET', value: (e) => (e.target ?? '').slice(0, 16) },
            { header: 'OUTCOME', value: (e) => e.outcome },
            {
              header: 'DETAILS',
              value: (e) => (typeof e.details?.error === 'string' ? e.details.error : ''),
            },
          ],
          'the audit log is empty',
        );
      }),
    );
}
