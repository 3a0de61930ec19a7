/**
 * `kubectl backup restore NAME`: plan (order, sanitise, map, existing-resource policy), check
 * permissions, apply, restore PVC data, wait for workloads; `--dry-run` prints the plan and the
 * diff against the cluster and changes nothing.
 */
import {
  diffBackupWithCluster,
  parseRequestTimeout,
  restoreNamespace,
  type Connection,
  type ExistingPolicy,
  type FieldChange,
  type NamespaceDiff,
  type RestoreNamespaceResult,
  type RestorePlan,
} from '@kubectl-backup/k8s';
import type { Repository } from '@kubectl-backup/engine';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { OutStream } from '../../io.js';
import { addClusterOptions, k8sErrors, withCluster, type ClusterFlags } from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { withK8sProgress } from '../../k8s-progress.js';
import { CliError } from '../../output/errors.js';
import { formatBytes, formatDuration } from '../../output/format.js';
import { renderTable } from '../../output/table.js';
import type { Session } from '../../session.js';
import { jsonOption } from '../options.js';
import { resourceListOption, selectorOption } from './flags.js';

interface RestoreFlags extends ClusterFlags {
  targetNamespace?: string;
  includeResources?: string[];
  excludeResources?: string[];
  selector?: string;
  existing: ExistingPolicy;
  volumes: boolean;
  preserveNodeports?: boolean;
  dryRun?: boolean;
  wait: boolean;
  waitTimeout?: number;
  json?: boolean;
  output: ReadFormat;
}

export function parseTimeout(value: string): number {
  try {
    const ms = parseRequestTimeout(value);
    if (ms !== undefined) return ms;
  } catch {
    // below
  }
  throw new InvalidArgumentError('expected a duration such as 90s, 5m or 1h');
}

export function registerRestore(parent: Command, session: Session): void {
  const cmd = parent
    .command('restore')
    .description(
      'restore a backup into its namespace or another one: objects in dependency order, sanitised, then PVC data; waits for workloads',
    )
    .argument(
      '<name>',
      'backup name, snapshot id prefix, or "latest" (of the namespace given with -n, else the context\'s)',
    );
  addClusterOptions(cmd)
    .option('--target-namespace <ns>', "restore into this namespace (default: the backup's)")
    .addOption(resourceListOption('include'))
    .addOption(resourceListOption('exclude'))
    .addOption(selectorOption())
    .addOption(
      new Option(
        '--existing <policy>',
        'objects that exist already: skip, update (server-side apply) or recreate (delete, create)',
      )
        .choices(['skip', 'update', 'recreate'])
        .default('skip'),
    )
    .option('--volumes', 'restore PVC data (the default)', true)
    .option('--no-volumes', 'restore the objects only, not the PVC data')
    .option(
      '--preserve-nodeports',
      "keep the Services' node ports (default: the cluster assigns new ones)",
    )
    .option('--dry-run', 'print the plan and the diff against the cluster; change nothing')
    .option(
      '--wait',
      'wait for Deployments, StatefulSets and DaemonSets to become ready (the default)',
      true,
    )
    .option('--no-wait', 'do not wait for workloads')
    .option(
      '--wait-timeout <duration>',
      'how long to wait for workloads (default 5m)',
      parseTimeout,
    )
    .addOption(jsonOption())
    .addOption(readOutputOption(['json', 'yaml']))
    .addHelpText(
      'after',
      `
Before changing anything the restore checks every permission its plan needs (SelfSubjectAccessReview)
and refuses with the list of missing ones. A restore record (per object: created, updated,
unchanged, skipped or failed, with the reason) is written into the repository; see it with
"kubectl backup logs RECORD". Exit code 1 when objects or volumes failed (a partial restore).

Examples:
  kubectl backup restore shop-20261121t140001z
  kubectl backup restore shop-20261121t140001z --target-namespace shop-copy --no-volumes
  kubectl backup restore latest -n shop --existing update --dry-run`,
    )
    .action((name: string, opts: RestoreFlags, c: Command) => runRestore(session, c, name, opts));
}

async function runRestore(
  session: Session,
  cmd: Command,
  name: string,
  opts: RestoreFlags,
): Promise<void> {
  const { io } = session;
  const namespaceGiven = opts.namespace !== undefined;
  await withCluster(io, opts, (conn) =>
    session.withRepo(cmd, { index: true }, async (repo) => {
      // restoreNamespace appends the `restore.create` audit entry itself (not on dry runs)
      const result = await k8sErrors(() =>
        withK8sProgress(io, opts, (onProgress) =>
          restoreNamespace(repo, conn.client, {
            backup: name,
            ...(name === 'latest' || namespaceGiven ? { namespace: conn.namespace } : {}),
            targetNamespace: opts.targetNamespace,
            includeResources: opts.includeResources,
            excludeResources: opts.excludeResources,
            labelSelector: opts.selector,
            existing: opts.existing,
            volumes: opts.volumes,
            preserveNodePorts: opts.preserveNodeports,
            dryRun: opts.dryRun,
            wait: opts.wait,
            waitTimeoutMs: opts.waitTimeout,
            signal: io.signal,
            onProgress,
          }),
        ),
      );
      if (result.dryRun) return printDryRun(session, repo, conn, result.plan, opts);
      if (!writeDocument(io.stdout, opts.output, result.record)) printRestore(io.stdout, result);
      for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
      const record = result.record;
      if (record && record.outcome !== 'success')
        throw new CliError(
          `the restore was ${record.outcome}: ${record.counts.failed} object(s) failed; see "kubectl backup logs ${record.name}"`,
        );
    }),
  );
}

function planDocument(plan: RestorePlan, extra: NamespaceDiff['objects']) {
  return {
    dryRun: true,
    backup: plan.backup,
    targetNamespace: plan.targetNamespace,
    existing: plan.existing,
    items: plan.items.map((it) => ({
      stage: it.stage,
      action: it.action,
      apiVersion: it.object.apiVersion,
      kind: it.ref.kind,
      ...(it.ref.namespace ? { namespace: it.ref.namespace } : {}),
      name: it.ref.name,
      exists: it.exists,
      ...(it.reason ? { reason: it.reason } : {}),
      ...(it.changes?.length ? { changes: it.changes } : {}),
    })),
    filteredOut: plan.filteredOut,
    volumes: plan.volumes,
    permissions: plan.permissions,
    notInBackup: extra.map((o) => ({ kind: o.kind, name: o.name })),
    warnings: plan.warnings,
  };
}

async function printDryRun(
  session: Session,
  repo: Repository,
  conn: Connection,
  plan: RestorePlan,
  opts: RestoreFlags,
): Promise<void> {
  const out = session.io.stdout;
  // objects in the target namespace that the backup does not have: a restore leaves them
  let extra: NamespaceDiff['objects'] = [];
  let extraNote = '';
  try {
    const diff = await diffBackupWithCluster(repo, conn.client, plan.backup.snapshot, {
      namespace: plan.targetNamespace,
      signal: session.io.signal,
    });
    extra = diff.objects.filter((o) => o.change === 'added');
  } catch (err) {
    extraNote = `(objects only in the cluster not compared: ${(err as Error).message})\n`;
  }
  if (writeDocument(out, opts.output, planDocument(plan, extra))) return;
  out.write(
    `restore plan of backup ${plan.backup.name} (namespace ${plan.backup.namespace}) into namespace ${plan.targetNamespace}, existing objects: ${plan.existing}\n`,
  );
  out.write(
    renderTable(plan.items, [
      { header: 'STAGE', value: (it) => it.stage },
      { header: 'ACTION', value: (it) => it.action },
      { header: 'KIND', value: (it) => it.ref.kind },
      { header: 'NAME', value: (it) => it.ref.name },
      { header: 'REASON', value: (it) => it.reason ?? '' },
    ]),
  );
  const changed = plan.items.filter((it) => it.changes?.length && it.action !== 'unchanged');
  if (changed.length) {
    out.write('\ndiff against the cluster (live → backup):\n');
    for (const it of changed) {
      out.write(`${it.ref.kind} ${it.ref.name} (${it.action}):\n`);
      for (const c of it.changes!) out.write(`  ${describeChange(c)}\n`);
    }
  }
  if (extra.length)
    out.write(
      `\nin the cluster but not in the backup (left as they are):\n${extra.map((o) => `  + ${o.kind} ${o.name}\n`).join('')}`,
    );
  out.write(extraNote);
  if (plan.volumes.length)
    out.write(
      `\nvolume data: ${plan.volumes.map((v) => `${v.pvc} (${formatBytes(v.bytes)})`).join(', ')}\n`,
    );
  if (plan.permissions.missing.length)
    out.write(
      `\nmissing permissions (the restore would be refused):\n${plan.permissions.missing
        .map(
          (p) =>
            `  ${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}${p.namespace ? ` -n ${p.namespace}` : ''}\n`,
        )
        .join('')}`,
    );
  for (const w of plan.warnings) session.io.stderr.write(`warning: ${w}\n`);
  const counts = new Map<string, number>();
  for (const it of plan.items) counts.set(it.action, (counts.get(it.action) ?? 0) + 1);
  out.write(
    `\ndry run: nothing was changed; would ${[...counts].map(([a, n]) => `${a} ${n}`).join(', ')}${plan.filteredOut ? ` (${plan.filteredOut} filtered out)` : ''}\n`,
  );
}

function show(v: unknown): string {
  if (v === undefined) return '<absent>';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

export function describeChange(c: FieldChange): string {
  if (c.from === undefined) return `+ ${c.path}: ${show(c.to)}`;
  if (c.to === undefined) return `- ${c.path}: ${show(c.from)}`;
  return `~ ${c.path}: ${show(c.from)} → ${show(c.to)}`;
}

function printRestore(out: OutStream, r: RestoreNamespaceResult): void {
  const rec = r.record;
  if (!rec) return;
  const c = rec.counts;
  out.write(
    `restored backup ${rec.source.backup} into namespace ${rec.targetNamespace}: ${c.created} created, ${c.updated} updated, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.failed} failed in ${formatDuration(rec.durationMs)}\n`,
  );
  for (const v of rec.volumes)
    out.write(`  volume ${v.pvc}: ${v.outcome}${v.reason ? ` (${v.reason})` : ''}\n`);
  for (const x of rec.readiness)
    if (!x.ready)
      out.write(`  not ready: ${x.kind} ${x.name}${x.message ? `: ${x.message}` : ''}\n`);
  for (const it of rec.items)
    if (it.outcome === 'failed') out.write(`  failed: ${it.kind} ${it.name}: ${it.reason ?? ''}\n`);
  out.write(`  record ${rec.name} (outcome ${rec.outcome})\n`);
}
