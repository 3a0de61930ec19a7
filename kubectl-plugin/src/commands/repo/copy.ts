/** `kubectl backup repo copy --to URL [SNAPSHOT…]`: copies snapshots to a second repository. */
import { copySnapshots, shortId, type CopyReport } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { ENV_TO_PASSWORD, readSecret } from '../../config.js';
import type { OutStream } from '../../io.js';
import { formatBytes } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import { withProgress } from '../../output/progress.js';
import type { Session } from '../../session.js';
import { jsonOption } from '../options.js';

interface CopyFlags {
  to: string;
  toPasswordFile?: string;
  json?: boolean;
}

export function registerCopy(parent: Command, session: Session): void {
  parent
    .command('copy')
    .description(
      'copy snapshots (default: all) to another, existing repository; only data it lacks is sent',
    )
    .argument('[snapshots...]', 'snapshot ids (or unique prefixes, or "latest")')
    .requiredOption('--to <url>', 'destination repository URL or path')
    .option(
      '--to-password-file <file>',
      `read the destination password from a file (default: $${ENV_TO_PASSWORD}, else prompt)`,
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      '\nExample:\n  kubectl backup repo copy --repo /backups/repo --to "s3://dr-bucket/repo?region=eu-west-1"',
    )
    .action((snapshots: string[], opts: CopyFlags, cmd: Command) =>
      session.withRepo(cmd, { index: true }, async (src) => {
        const from = session.location;
        const toPassword = () =>
          readSecret(session.io, {
            file: opts.toPasswordFile,
            envVar: ENV_TO_PASSWORD,
            flag: '--to-password-file',
            what: 'destination repository password',
          });
        const report = await session.withStorage(opts.to, async (storage) => {
          const dst = await session.open(storage, toPassword, { index: true });
          const work = () =>
            withProgress(session.io, opts, (onProgress) =>
              copySnapshots(src, dst, { snapshots, onProgress }),
            );
          return session.audited(dst, 'snapshot.copy', work, (r) => ({
            details: { from, copied: r.copied, skipped: r.skipped, bytesCopied: r.bytesCopied },
          }));
        });
        if (opts.json) writeJson(session.io.stdout, report);
        else printCopy(session.io.stdout, report);
      }),
    );
}

function printCopy(out: OutStream, r: CopyReport): void {
  for (const c of r.copied) out.write(`copied ${shortId(c.source)} → ${shortId(c.destination)}\n`);
  out.write(
    `copied ${r.copied.length} snapshot(s), skipped ${r.skipped.length} already there; ` +
      `${r.blobsCopied} blob(s), ${formatBytes(r.bytesCopied)} sent (${formatBytes(r.storedBytes)} stored)\n`,
  );
}
