/**
 * `kubectl backup verify NAME`: checks that a backup can be read (every object, with
 * `--read-data` every byte) and, with `--restore-test`, restores it into a scratch namespace,
 * compares objects and volume checksums, and deletes the namespace. Only `--restore-test`
 * needs a cluster. The library writes the verify record and the `backup.verify` audit entry.
 */
import {
  findBackup,
  isK8sError,
  tagValue,
  verifyBackup,
  type Connection,
  type KubeClient,
  type VerifyCheck,
  type VerifyResult,
} from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import type { OutStream } from '../../io.js';
import {
  addClusterOptions,
  k8sErrors,
  resolveNamespace,
  withCluster,
  type ClusterFlags,
} from '../../k8s-cluster.js';
import { readOutputOption, writeDocument, type ReadFormat } from '../../k8s-output.js';
import { withK8sProgress } from '../../k8s-progress.js';
import { CliError, usageError } from '../../output/errors.js';
import { writeJson } from '../../output/json.js';
import { renderTable } from '../../output/table.js';
import { actor, type Session } from '../../session.js';
import { jsonOption } from '../options.js';
import { parseTimeout } from './restore.js';

interface VerifyFlags extends ClusterFlags {
  readData?: boolean;
  restoreTest?: boolean;
  scratchNamespace?: string;
  keepScratch?: boolean;
  waitTimeout?: number;
  moverImage?: string;
  json?: boolean;
  output: ReadFormat;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function registerVerify(parent: Command, session: Session): void {
  const cmd = parent
    .command('verify')
    .description(
      'check that a backup is intact (every object; --read-data every byte) and, with --restore-test, that it restores: into a scratch namespace, compared object by object and file by file, then deleted',
    )
    .argument('<name>', 'backup name, snapshot id prefix, or "latest" (of the namespace)');
  addClusterOptions(cmd)
    .option('--read-data', 'read every byte of the volume data too (default: the objects only)')
    .option(
      '--restore-test',
      'restore into a scratch namespace, compare objects (after sanitising) and volume checksums, delete it',
    )
    .option(
      '--scratch-namespace <ns>',
      'name of the scratch namespace; must not exist (default: verify-<backup>-<random>)',
    )
    .option('--keep-scratch', 'keep the scratch namespace afterwards, for inspection')
    .option(
      '--wait-timeout <duration>',
      'how long to wait for the restored workloads (default 5m)',
      parseTimeout,
    )
    .option('--mover-image <image>', 'image of the mover pods that write and read PVCs')
    .addOption(jsonOption())
    .addOption(readOutputOption(['json', 'yaml']))
    .addHelpText(
      'after',
      `
Without --restore-test only the repository is read: no kubeconfig or cluster is needed (except
for "latest" without -n, which takes the namespace of the kubeconfig's context). The restore
test uses the current context (or --context) and needs the permissions of a restore into a new
namespace, plus deleting it. The result is stored as a verify record ("kubectl backup list"
shows the latest one per backup, "kubectl backup logs RECORD" its log) and in the audit log.
Exit code 0 when every check passed, 1 when one failed (the reason is on stderr).

Examples:
  kubectl backup verify shop-20261121t140001z
  kubectl backup verify latest -n shop --read-data
  kubectl backup verify shop-20261121t140001z --read-data --restore-test --wait-timeout 10m
  kubectl backup verify shop-20261121t140001z --restore-test --scratch-namespace shop-check --keep-scratch`,
    )
    .action((name: string, opts: VerifyFlags, c: Command) => runVerify(session, c, name, opts));
}

function validate(opts: VerifyFlags): void {
  if (!opts.restoreTest) {
    const given = [
      opts.scratchNamespace !== undefined && '--scratch-namespace',
      opts.keepScratch && '--keep-scratch',
      opts.waitTimeout !== undefined && '--wait-timeout',
      opts.moverImage !== undefined && '--mover-image',
    ].filter(Boolean);
    if (given.length)
      throw usageError(
        `${given.join(', ')} ${given.length === 1 ? 'applies' : 'apply'} only with --restore-test`,
      );
  }
  const ns = opts.scratchNamespace;
  if (ns !== undefined && (ns.length > 63 || !DNS_LABEL.test(ns)))
    throw usageError(
      `invalid scratch namespace "${ns}": lower-case letters, digits and "-", at most 63 characters`,
    );
}

async function runVerify(
  session: Session,
  cmd: Command,
  name: string,
  opts: VerifyFlags,
): Promise<void> {
  const { io } = session;
  validate(opts);
  // names are unique in the repository: the namespace only narrows "latest"
  const namespace = name === 'latest' ? resolveNamespace(io, opts) : opts.namespace;
  const verify = (conn?: Connection) =>
    session.withRepo(cmd, { index: true }, async (repo) => {
      const handle = await k8sErrors(() => findBackup(repo, name, { namespace }));
      if (conn && opts.scratchNamespace)
        await assertNewNamespace(conn.client, opts.scratchNamespace);
      return k8sErrors(() =>
        withK8sProgress(io, opts, (onProgress) =>
          // verifyBackup writes the verify record and the `backup.verify` audit entry itself
          verifyBackup(repo, conn?.client, {
            backup: handle.snapshot.id,
            readData: opts.readData,
            restoreTest: opts.restoreTest,
            scratchNamespace: opts.scratchNamespace,
            keepScratch: opts.keepScratch,
            waitTimeoutMs: opts.waitTimeout,
            moverImage: opts.moverImage,
            // with a cluster the library asks it who we are; without, the local user
            ...(conn ? {} : { actor: actor() }),
            signal: io.signal,
            onProgress,
          }),
        ),
      );
    });
  const result = opts.restoreTest ? await withCluster(io, opts, verify) : await verify();
  const doc = verifyDocument(result);
  if (opts.json) writeJson(io.stdout, doc);
  else if (!writeDocument(io.stdout, opts.output, doc)) {
    for (const w of result.warnings) io.stderr.write(`warning: ${w}\n`);
    printVerify(io.stdout, result, opts);
  }
  if (result.result !== 'passed')
    throw new CliError(`verify of backup ${result.backup} failed: ${failureReason(result.checks)}`);
}

/** The scratch namespace is deleted afterwards: never let it be one that holds anything. */
async function assertNewNamespace(client: KubeClient, ns: string): Promise<void> {
  const t = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };
  const existing = await client.getOptional(t, undefined, ns).catch((err: unknown) => {
    if (isK8sError(err, 'EFORBIDDEN')) return undefined; // the restore's own preflight decides
    throw err;
  });
  if (existing)
    throw new CliError(
      `namespace ${ns} already exists; a scratch namespace must be new (it is deleted after the test)`,
    );
}

function verifyDocument(r: VerifyResult) {
  return {
    backup: r.backup,
    snapshot: r.snapshot,
    result: r.result,
    checks: r.checks,
    ...(r.scratchNamespace ? { scratchNamespace: r.scratchNamespace } : {}),
    ...(r.recordSnapshot
      ? {
          record: tagValue(r.recordSnapshot.tags, 'name') ?? r.recordSnapshot.id,
          recordSnapshot: r.recordSnapshot.id,
        }
      : {}),
    warnings: r.warnings,
  };
}

/** `integrity: volumes/data.tar: … (+2 more); objects: …` */
export function failureReason(checks: VerifyCheck[]): string {
  return checks
    .filter((c) => !c.ok)
    .map((c) => {
      const problems = c.problems ?? [];
      const first = problems[0] ?? 'failed';
      return `${c.name}: ${first}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
    })
    .join('; ');
}

function printVerify(out: OutStream, r: VerifyResult, opts: VerifyFlags): void {
  out.write(
    renderTable(r.checks, [
      { header: 'CHECK', value: (c) => c.name },
      { header: 'RESULT', value: (c) => (c.ok ? 'ok' : 'FAILED') },
      {
        header: 'DETAIL',
        value: (c) =>
          c.ok
            ? (c.detail ?? '')
            : `${(c.problems ?? []).length} problem(s)${c.detail ? `; ${c.detail}` : ''}`,
      },
    ]),
  );
  for (const c of r.checks)
    for (const p of c.ok ? [] : (c.problems ?? [])) out.write(`  ${c.name}: ${p}\n`);
  const scratch = r.scratchNamespace;
  if (scratch)
    out.write(
      opts.keepScratch
        ? `scratch namespace ${scratch} kept (delete it with "kubectl delete namespace ${scratch}")\n`
        : `scratch namespace ${scratch} deleted\n`,
    );
  if (r.recordSnapshot) {
    const record = tagValue(r.recordSnapshot.tags, 'name') ?? r.recordSnapshot.id.slice(0, 8);
    out.write(`record ${record} (see "kubectl backup logs ${record}")\n`);
  }
  out.write(
    r.result === 'passed'
      ? `verify of backup ${r.backup} passed\n`
      : `verify of backup ${r.backup} FAILED: ${failureReason(r.checks)}\n`,
  );
}
