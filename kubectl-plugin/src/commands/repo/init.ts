/** `kubectl backup repo init`: creates an empty repository. */
import { EngineError, Repository } from '@kubectl-backup/engine';
import type { Command } from 'commander';
import { keyOptions, repositoryPassword } from '../../config.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { outputOption, type OutputFormat } from '../options.js';

export function registerInit(parent: Command, session: Session): void {
  parent
    .command('init')
    .description('create a new, empty repository (asks for the password twice on a terminal)')
    .addOption(outputOption())
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl backup repo init --repo /backups/repo\n  kubectl backup repo init --repo "s3://backups/prod?endpoint=http://minio:9000"',
    )
    .action((opts: { output: OutputFormat }, cmd: Command) => runInit(session, cmd, opts));
}

export async function runInit(
  session: Session,
  cmd: Command,
  opts: { output: OutputFormat },
): Promise<void> {
  const globals = session.globals(cmd);
  await session.withStorage(globals.repo, async (storage, location) => {
    if (await storage.exists('config'))
      throw new EngineError('EEXIST', `a repository already exists at ${location.display}`);
    const password = await repositoryPassword(session.io, globals, { confirm: true });
    const repo = await Repository.init(storage, password, keyOptions(session.io.env));
    await session.audit(repo, {
      action: 'repo.init',
      target: repo.id,
      outcome: 'success',
      details: { location: location.display },
    });
    if (opts.output === 'json')
      writeJson(session.io.stdout, { id: repo.id, location: location.display });
    else
      session.io.stdout.write(`created repository ${repo.id.slice(0, 8)} at ${location.display}\n`);
  });
}
