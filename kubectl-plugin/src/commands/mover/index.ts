/** `kubectl backup mover backup|restore`: the data-mover commands run in a pod against a volume. */
import type { Command } from 'commander';
import type { Session } from '../../session.js';
import { registerMoverBackup } from './backup.js';
import { registerMoverRestore } from './restore.js';

export function registerMover(program: Command, session: Session): void {
  const mover = program
    .command('mover')
    .description(
      'back up or restore a mounted volume directly (what the in-cluster mover pod runs; never prompts)',
    );
  registerMoverBackup(mover, session);
  registerMoverRestore(mover, session);
}
