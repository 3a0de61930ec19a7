/** `kubectl backup repo key add|list|remove|passwd`: the passwords that open a repository. */
import type { Command } from 'commander';
import type { Session } from '../../session.js';
import { registerKeyAdd, registerKeyPasswd } from './add.js';
import { registerKeyList } from './list.js';
import { registerKeyRemove } from './remove.js';

export function registerKey(parent: Command, session: Session): void {
  const key = parent
    .command('key')
    .description('manage the passwords (keys) that open the repository');
  registerKeyAdd(key, session);
  registerKeyList(key, session);
  registerKeyRemove(key, session);
  registerKeyPasswd(key, session);
}
