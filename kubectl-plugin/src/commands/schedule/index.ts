/**
 * `kubectl backup schedule create|list|delete`: backups that run in the cluster on a schedule
 * (a CronJob per schedule, see @kubectl-backup/k8s schedule.ts).
 */
import type { Command } from 'commander';
import type { Session } from '../../session.js';
import { registerScheduleCreate } from './create.js';
import { registerScheduleDelete } from './delete.js';
import { registerScheduleList } from './list.js';

export function registerScheduleCommands(program: Command, session: Session): void {
  const schedule = program
    .command('schedule')
    .description(
      'back up a namespace on a schedule, from a CronJob in the cluster: create, list, delete',
    );
  for (const register of [registerScheduleCreate, registerScheduleList, registerScheduleDelete])
    register(schedule, session);
}
