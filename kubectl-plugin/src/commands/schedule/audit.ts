/**
 * Audit entries of the schedule commands. The change happens in the cluster, the entry goes to
 * the repository afterwards: when the repository cannot be opened (unreachable from this
 * machine, no password at hand) the command warns and still reports the cluster change.
 */
import type { AuditOutcome } from '@kubectl-backup/engine';
import { K8sError, type Connection } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import { describeError } from '../../output/errors.js';
import type { Session } from '../../session.js';

export interface ScheduleAudit {
  action: 'schedule.create' | 'schedule.delete';
  /** The schedule's name. */
  target: string;
  namespace: string;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
}

/** Appends the entry; any failure to do so is a warning on stderr. */
export async function auditSchedule(
  session: Session,
  cmd: Command,
  conn: Connection,
  entry: ScheduleAudit,
): Promise<void> {
  try {
    await session.withRepo(cmd, {}, (repo) =>
      session.audit(repo, {
        ...entry,
        cluster: conn.info.cluster || conn.info.server,
        context: conn.info.context,
      }),
    );
  } catch (err) {
    const what =
      entry.outcome === 'success' ? 'the cluster was changed, but' : 'nothing was changed, and';
    session.io.stderr.write(
      `warning: ${what} the ${entry.action} entry could not be appended to the repository's audit log: ${describeError(err, session.location)}\n`,
    );
  }
}

/**
 * The outcome to record for a failed change: `denied` for missing permissions, `failure` for
 * an error while changing the cluster; undefined for refusals that are about the input
 * (unknown schedule, foreign objects, missing namespace) or the connection.
 */
export function failureOutcome(err: unknown): AuditOutcome | undefined {
  if (!(err instanceof K8sError)) return undefined;
  if (err.code === 'EFORBIDDEN') return 'denied';
  return ['ECONFLICT', 'EINVALID', 'EAPI', 'ETIMEOUT', 'EABORTED'].includes(err.code)
    ? 'failure'
    : undefined;
}

/** Runs a cluster change; a failure worth recording is audited before it is rethrown. */
export async function auditedChange<T>(
  session: Session,
  cmd: Command,
  conn: Connection,
  entry: Omit<ScheduleAudit, 'outcome' | 'details'>,
  change: () => Promise<T>,
): Promise<T> {
  try {
    return await change();
  } catch (err) {
    const outcome = failureOutcome(err);
    if (outcome)
      await auditSchedule(session, cmd, conn, {
        ...entry,
        outcome,
        details: { error: describeError(err) },
      });
    throw err;
  }
}
