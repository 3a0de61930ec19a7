/**
 * What each operation does, through @kubectl-backup/k8s with the configured cluster credentials:
 * the Backstage user is the actor the library records in the backup, the records and the audit
 * log.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Repository } from '@kubectl-backup/engine';
import {
  backupNamespace,
  canICommand,
  restoreNamespace,
  verifyBackup,
  type K8sProgressEvent,
} from '@kubectl-backup/k8s';
import type {
  ExistingResourcePolicy,
  OperationProgress,
  RestorePlanSummary,
} from '@kubectl-backup/plugin-backup-common';
import { compact } from '../../database/values.js';

export interface RunContext {
  repo: Repository;
  kc: KubeConfig;
  actor: string;
  signal: AbortSignal;
  onProgress: (p: OperationProgress) => void;
}

/** Items listed in a dry run's answer (the counts cover them all). */
const PLAN_ITEMS_SHOWN = 500;

export function progressOf(e: K8sProgressEvent): OperationProgress {
  return compact({
    phase: e.phase,
    message: e.message,
    done: e.done,
    total: e.total,
    bytesDone: e.bytesDone,
    bytesTotal: e.bytesTotal,
  });
}

export async function runBackup(
  ctx: RunContext,
  params: { namespace: string; name?: string; tags?: string[] },
): Promise<Record<string, unknown>> {
  const r = await backupNamespace(ctx.repo, ctx.kc, {
    namespace: params.namespace,
    ...(params.name ? { name: params.name } : {}),
    ...(params.tags ? { tags: params.tags } : {}),
    actor: ctx.actor,
    signal: ctx.signal,
    onProgress: (e) => ctx.onProgress(progressOf(e)),
  });
  return {
    backup: r.manifest.name,
    snapshot: r.snapshot.id,
    resources: r.manifest.resources.total,
    volumes: r.manifest.volumes.length,
    sizeTotal: r.snapshot.stats.bytesTotal,
    sizeAdded: r.snapshot.stats.bytesAdded,
    warnings: r.warnings,
  };
}

export async function runVerify(
  ctx: RunContext,
  params: { backup: string; restoreTest: boolean },
): Promise<Record<string, unknown>> {
  const r = await verifyBackup(ctx.repo, params.restoreTest ? ctx.kc : undefined, {
    backup: params.backup,
    restoreTest: params.restoreTest,
    actor: ctx.actor,
    signal: ctx.signal,
    onProgress: (e) => ctx.onProgress(progressOf(e)),
  });
  return {
    backup: r.backup,
    snapshot: r.snapshot,
    result: r.result,
    checks: r.checks.map((c) => compact({ name: c.name, ok: c.ok, problems: c.problems })),
    ...(r.scratchNamespace ? { scratchNamespace: r.scratchNamespace } : {}),
    warnings: r.warnings,
  };
}

export interface RestoreParams {
  backup: string;
  targetNamespace: string;
  policy: ExistingResourcePolicy;
  dryRun: boolean;
}

export async function runRestore(
  ctx: RunContext,
  params: RestoreParams,
): Promise<Record<string, unknown>> {
  const r = await restoreNamespace(ctx.repo, ctx.kc, {
    backup: params.backup,
    targetNamespace: params.targetNamespace,
    existing: params.policy,
    dryRun: params.dryRun,
    actor: ctx.actor,
    signal: ctx.signal,
    onProgress: (e) => ctx.onProgress(progressOf(e)),
  });
  if (params.dryRun || !r.record) {
    const counts: Record<string, number> = {};
    for (const item of r.plan.items) counts[item.action] = (counts[item.action] ?? 0) + 1;
    const summary: RestorePlanSummary = {
      backup: r.plan.backup.name,
      targetNamespace: r.plan.targetNamespace,
      policy: r.plan.existing,
      counts,
      items: r.plan.items.slice(0, PLAN_ITEMS_SHOWN).map((i) =>
        compact({
          kind: i.ref.kind,
          namespace: i.ref.namespace,
          name: i.ref.name,
          action: i.action,
          reason: i.reason,
          changes: i.changes?.length,
        }),
      ),
      missingPermissions: r.plan.permissions.missing.map((p) => canICommand(p)),
      warnings: r.warnings,
    };
    return { dryRun: true, ...summary };
  }
  return {
    dryRun: false,
    record: r.record.name,
    outcome: r.record.outcome,
    counts: r.record.counts,
    warnings: r.warnings,
  };
}
