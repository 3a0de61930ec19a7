/** `kubectl backup describe NAME`: one backup in detail (kubectl describe style, or -o json|yaml). */
import { describeBackup, type BackupDescription } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import {
  addClusterOptions,
  k8sErrors,
  resolveNamespace,
  type ClusterFlags,
} from '../../k8s-cluster.js';
import { fields, readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { formatBytes, formatDuration, formatTime } from '../../output/format.js';
import { renderTable, type Column } from '../../output/table.js';
import type { Session } from '../../session.js';

interface DescribeFlags extends ClusterFlags {
  output: ReadFormat;
}

export function registerDescribe(parent: Command, session: Session): void {
  const cmd = parent
    .command('describe')
    .description(
      'show a backup: who/when/where, resources by kind, volumes with sizes, images with digests, stats, warnings, restores',
    )
    .argument('<name>', 'backup name, snapshot id prefix, or "latest" (of the namespace)');
  addClusterOptions(cmd)
    .addOption(readOutputOption(['json', 'yaml']))
    .action((name: string, opts: DescribeFlags, c: Command) => {
      // names are unique in the repository: the namespace only narrows "latest"
      const namespace = name === 'latest' ? resolveNamespace(session.io, opts) : opts.namespace;
      return session.withRepo(c, { index: true }, async (repo) => {
        const d = await k8sErrors(() => describeBackup(repo, name, { namespace }));
        const { manifest: _manifest, ...shown } = d;
        if (writeDocument(session.io.stdout, opts.output, shown)) return;
        session.io.stdout.write(renderDescription(d));
      });
    });
}

function section(title: string, body: string): string {
  return `${title}:\n${body || '  <none>\n'}`;
}

/** A section holding a table of `rows` (empty: `<none>`, as section() shows it). */
function tableSection<T>(title: string, rows: readonly T[], columns: readonly Column<T>[]): string {
  return section(title, rows.length ? indent(renderTable(rows, columns)) : '');
}

function indent(text: string): string {
  return text.replace(/^(?=.)/gm, '  ');
}

export function renderDescription(d: BackupDescription): string {
  const s = d.summary;
  const reused =
    d.stats.bytesTotal > 0
      ? Math.max(0, Math.round((1 - d.stats.bytesAdded / d.stats.bytesTotal) * 100))
      : 0;
  let out = fields([
    ['Name', s.name],
    ['Namespace', d.where.namespace],
    ['Snapshot', s.snapshot],
    ['Cluster', `${d.where.cluster} (context ${d.where.context}, ${d.where.server})`],
    ['Created by', `${d.who.actor} (${d.who.actorSource}) on ${d.who.host}`],
    ['Started', formatTime(d.when.started)],
    ['Duration', formatDuration(d.when.durationMs)],
    ['Tags', s.tags.join(', ')],
    [
      'Verified',
      s.verified
        ? `${s.verified.result} at ${formatTime(s.verified.time)} (${s.verified.record})`
        : 'never',
    ],
  ]);
  out += section(
    'Options',
    fields(
      [
        ['Volumes', d.options.volumes],
        ['Include', d.options.includeResources.join(',')],
        ['Exclude', d.options.excludeResources.join(',')],
        ['Selector', d.options.labelSelector],
        ['Fail on warning', d.options.failOnWarning ? 'yes' : undefined],
      ],
      '  ',
    ),
  );
  out += section(
    'Stats',
    fields(
      [
        ['Objects', String(s.resources)],
        ['Skipped', String(d.skipped.total)],
        ['Size', formatBytes(d.stats.bytesTotal)],
        ['Added', `${formatBytes(d.stats.bytesAdded)} (${reused}% already in the repository)`],
        ['Stored', formatBytes(d.stats.storedBytesAdded)],
      ],
      '  ',
    ),
  );
  out += tableSection('Resources', d.resources, [
    { header: 'KIND', value: (k) => k.kind },
    { header: 'API VERSION', value: (k) => k.apiVersion },
    { header: 'COUNT', value: (k) => String(k.count), right: true },
    { header: 'NAMES', value: (k) => abbreviate(k.names) },
  ]);
  out += tableSection('Cluster-scoped dependencies', d.dependencies, [
    { header: 'KIND', value: (x) => x.kind },
    { header: 'NAME', value: (x) => x.name },
    { header: 'WHY', value: (x) => x.reason },
  ]);
  out += section(
    'Skipped',
    Object.entries(d.skipped.byReason)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([why, n]) => `  ${n}  ${why}\n`)
      .join(''),
  );
  out += tableSection('Volumes', d.volumes, [
    { header: 'PVC', value: (v) => v.pvc },
    { header: 'METHOD', value: (v) => v.method },
    { header: 'CAPACITY', value: (v) => v.capacity ?? '' },
    { header: 'STORAGECLASS', value: (v) => v.storageClass ?? '' },
    { header: 'DATA', value: (v) => formatBytes(v.bytes ?? v.itemSize ?? 0), right: true },
    { header: 'NOTE', value: (v) => v.error ?? v.note ?? '' },
  ]);
  out += tableSection('Images', d.images, [
    { header: 'OWNER', value: (i) => i.owner },
    { header: 'CONTAINER', value: (i) => `${i.container}${i.init ? ' (init)' : ''}` },
    { header: 'IMAGE', value: (i) => i.image },
    { header: 'DIGEST', value: (i) => i.digest ?? '' },
  ]);
  if (d.hooks.length)
    out += section(
      'Hooks',
      d.hooks
        .map(
          (h) =>
            `  ${String(h.phase)} ${String(h.pod)}: ${h.ok ? 'ok' : `failed (${String(h.error ?? h.exitCode)})`}\n`,
        )
        .join(''),
    );
  out += tableSection('Restores', d.restores, [
    { header: 'NAME', value: (r) => r.name },
    { header: 'TIME', value: (r) => formatTime(r.time) },
    { header: 'TARGET', value: (r) => r.targetNamespace },
    { header: 'OUTCOME', value: (r) => r.outcome },
  ]);
  out += section('Warnings', d.warnings.map((w) => `  ${w}\n`).join(''));
  return out;
}

/** At most 5 names, then `(+N more)`. */
function abbreviate(names: string[]): string {
  const sorted = [...names].sort();
  return sorted.length <= 5
    ? sorted.join(', ')
    : `${sorted.slice(0, 5).join(', ')} (+${sorted.length - 5} more)`;
}
