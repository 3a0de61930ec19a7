/** `kubectl backup repo init`: creates an empty repository. */
import { EngineError, Repository } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { ENV_FROM_PASSWORD, keyOptions, readSecret, repositoryPassword } from '../../config.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { outputOption, type OutputFormat } from '../options.js';

export function registerInit(parent: Command, session: Session): void {
  parent
    .command('init')
    .description('create a new, empty repository (asks for the password twice on a terminal)')
    .option(
      '--from-repo <url>',
      'share chunking parameters and content ids with this existing repository, so that "repo copy" between the two never re-reads data the destination has',
    )
    .option(
      '--from-password-file <file>',
      `password of --from-repo, from a file (default: $${ENV_FROM_PASSWORD}, else prompt)`,
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl backup repo init --repo /backups/repo\n  kubectl backup repo init --repo "s3://backups/prod?endpoint=http://minio:9000"\n  kubectl backup repo init --repo s3://dr/prod --from-repo /backups/repo   # a copy target',
    )
    .action((opts: InitFlags, cmd: Command) => runInit(session, cmd, opts));
}

interface InitFlags {
  output: OutputFormat;
  fromRepo?: string;
  fromPasswordFile?: string;
}

/** Opens the --from-repo repository, only to read its configuration. */
function sourceRepository(session: Session, opts: InitFlags): Promise<Repository> | undefined {
  if (!opts.fromRepo) return undefined;
  const password = () =>
    readSecret(session.io, {
      file: opts.fromPasswordFile,
      envVar: ENV_FROM_PASSWORD,
      flag: '--from-password-file',
      what: 'password of the --from-repo repository',
    });
  return session.withStorage(opts.fromRepo, (storage) => session.open(storage, password));
}

export async function runInit(session: Session, cmd: Command, opts: InitFlags): Promise<void> {
  const globals = session.globals(cmd);
  await session.withStorage(globals.repo, async (storage, location) => {
    if (await storage.exists('config'))
      throw new EngineError('EEXIST', `a repository already exists at ${location.display}`);
    const identityFrom = await sourceRepository(session, opts);
    const password = await repositoryPassword(session.io, globals, { confirm: true });
    const repo = await Repository.init(storage, password, {
      ...keyOptions(session.io.env),
      ...(identityFrom ? { identityFrom } : {}),
    });
    await session.audit(repo, {
      action: 'repo.init',
      target: repo.id,
      outcome: 'success',
      details: {
        location: location.display,
        ...(opts.fromRepo ? { identityFrom: identityFrom?.id } : {}),
      },
    });
    if (opts.output === 'json')
      writeJson(session.io.stdout, { id: repo.id, location: location.display });
    else
      session.io.stdout.write(`created repository ${repo.id.slice(0, 8)} at ${location.display}\n`);
  });
}
