/**
 * The namespace commands: `kubectl backup create|list|describe|diff|restore|verify|delete|forget|audit|logs`.
 * Thin shells over @kubectl-backup/k8s: they parse and validate flags, connect like kubectl,
 * and render what the library returns.
 */
import type { Command } from 'commander';
import type { Session } from '../../session.js';
import { registerAudit } from './audit.js';
import { registerCreate } from './create.js';
import { registerDelete } from './delete.js';
import { registerDescribe } from './describe.js';
import { registerDiff } from './diff.js';
import { registerForget } from './forget.js';
import { registerList } from './list.js';
import { registerLogs } from './logs.js';
import { registerRestore } from './restore.js';
import { registerVerify } from './verify.js';

export function registerNamespaceCommands(program: Command, session: Session): void {
  for (const register of [
    registerCreate,
    registerList,
    registerDescribe,
    registerDiff,
    registerRestore,
    registerVerify,
    registerDelete,
    registerForget,
    registerAudit,
    registerLogs,
  ])
    register(program, session);
}
