/** `kubectl backup audit [-n NS] [--verify]`: who did what, when, where, with which outcome. */
import { readAuditLog, type AuditEntry } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { addClusterOptions, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { auditColumns, verifyAuditChain } from '../../output/audit.js';
import { writeTable } from '../../output/table.js';
import type { Session } from '../../session.js';

interface AuditFlags extends ClusterFlags {
  verify?: boolean;
  output: ReadFormat;
}

export function registerAudit(parent: Command, session: Session): void {
  const cmd = parent
    .command('audit')
    .description(
      "the repository's audit log (backups, restores, deletions… with actor, cluster, context, namespace, outcome); --verify checks its hash chain",
    );
  addClusterOptions(cmd)
    .option(
      '--verify',
      'verify the whole chain (MACs and links) and report the first bad entry (exit 1 if any)',
    )
    .addOption(readOutputOption(['json', 'yaml', 'wide']))
    .addHelpText(
      'after',
      "\nWithout -n every entry is shown (also the repository commands'); -n shows the entries about that namespace.",
    )
    .action((opts: AuditFlags, c: Command) =>
      session.withRepo(c, { index: true }, async (repo) => {
        const out = session.io.stdout;
        if (opts.verify) return verifyAuditChain(repo, out, opts.output);
        const entries = (await readAuditLog(repo)).filter(
          (e) => !opts.namespace || e.namespace === opts.namespace,
        );
        if (writeDocument(out, opts.output, entries)) return;
        const wide = opts.output === 'wide';
        writeTable<AuditEntry>(
          out,
          entries,
          auditColumns(
            (e) => e.target ?? '',
            [
              { header: 'NAMESPACE', value: (e) => e.namespace ?? '' },
              ...(wide
                ? [
                    { header: 'CLUSTER', value: (e: AuditEntry) => e.cluster ?? '' },
                    { header: 'CONTEXT', value: (e: AuditEntry) => e.context ?? '' },
                    { header: 'HOST', value: (e: AuditEntry) => e.host },
                  ]
                : []),
            ],
          ),
          opts.namespace
            ? `no audit entries about namespace ${opts.namespace}`
            : 'the audit log is empty',
        );
      }),
    );
}
