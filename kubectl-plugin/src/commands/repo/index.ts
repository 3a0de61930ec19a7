/** `kubectl backup repo …`: the repository's own commands. */
import type { Command } from 'commander';
import type { Session } from '../../session.js';
import { registerKey } from '../key/index.js';
import { registerAudit } from './audit.js';
import { registerCheck } from './check.js';
import { registerCopy } from './copy.js';
import { registerDiff } from './diff.js';
import { registerForget } from './forget.js';
import { registerInfo } from './info.js';
import { registerInit } from './init.js';
import { registerPrune } from './prune.js';
import { registerSnapshots } from './snapshots.js';
import { registerUnlock } from './unlock.js';

export function registerRepo(program: Command, session: Session): void {
  const repo = program
    .command('repo')
    .description(
      'create and maintain a repository: info, snapshots, check, forget, prune, copy, keys, audit log, locks',
    );
  for (const register of [
    registerInit,
    registerInfo,
    registerSnapshots,
    registerDiff,
    registerCheck,
    registerForget,
    registerPrune,
    registerCopy,
  ]) {
    register(repo, session);
  }
  registerKey(repo, session);
  registerAudit(repo, session);
  registerUnlock(repo, session);
}
