/**
 * `kubectl backup repo info`: what the repository is (location, format, algorithms, id) and
 * what it holds (keys, snapshots by kind, stored objects and bytes, locks, audit log).
 * Read-only: no lock taken, no audit entry written. Never prints the identity secrets.
 */
import {
  listLocks,
  listSnapshots,
  readAuditLog,
  type ListedLock,
  type Repository,
} from '@kubectl-backup/engine';
import { tagValue } from '@kubectl-backup/k8s';
import type { Command } from 'commander';
import type { OutStream } from '../../io.js';
import { fields } from '../../k8s-output.js';
import { formatBytes, formatTime } from '../../output/format.js';
import { writeJson } from '../../output/json.js';
import type { Session } from '../../session.js';
import { outputOption, type OutputFormat } from '../options.js';

/** Storage areas of the format (docs/format.md) and the key prefix of each. */
const AREAS = {
  packs: 'data/',
  index: 'index/',
  snapshots: 'snapshots/',
  keys: 'keys/',
  audit: 'audit/',
  locks: 'locks/',
} as const;
type Area = keyof typeof AREAS;

const AUDIT_ENTRY = /^audit\/(\d{12})-[0-9a-f]{64}$/;
/** Snapshots without a kubectl-backup kind tag (directory backups of `mover backup`…). */
const OTHER_KIND = 'other';

interface Usage {
  count: number;
  bytes: number;
}

export interface RepoInfo {
  location: string;
  id: string;
  version: number;
  created: string;
  chunker: Repository['config']['chunker'];
  contentId: string;
  compression: Repository['config']['compression'];
  encryption: string;
  packSize: number;
  keys: number;
  snapshots: { total: number; byKind: Record<string, number> };
  storage: Record<Area, Usage> & { totalBytes: number };
  locks: Array<{
    kind: 'exclusive' | 'shared' | 'audit' | 'unreadable';
    /** Storage key of an unreadable lock file. */
    key?: string;
    holder?: string;
    pid?: number;
    since?: string;
    expires?: string;
    stale: boolean;
  }>;
  audit: { entries: number; last?: { seq: number; time: string; action: string; actor: string } };
}

export function registerInfo(parent: Command, session: Session): void {
  parent
    .command('info')
    .description(
      'show what the repository is and holds: location, format, algorithms, id, keys, snapshots, packs and bytes, locks, audit log',
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Read-only: takes no lock and writes no audit entry (safe while backups run). The repository's
secrets (keys, content-id and chunker seeds) are never shown.

Examples:
  kubectl backup repo info
  kubectl backup repo info --repo s3://backups/prod?region=eu-west-1 -o json`,
    )
    .action((opts: { output: OutputFormat }, cmd: Command) =>
      session.withRepo(cmd, {}, async (repo) => {
        const info = await repoInfo(repo, session.location ?? repo.storage.location);
        if (opts.output === 'json') writeJson(session.io.stdout, info);
        else printInfo(session.io.stdout, info);
      }),
    );
}

async function usage(repo: Repository, prefix: string): Promise<Usage & { keys: string[] }> {
  const keys: string[] = [];
  let bytes = 0;
  for await (const o of repo.storage.list(prefix)) {
    keys.push(o.key);
    bytes += o.size;
  }
  return { count: keys.length, bytes, keys };
}

export async function repoInfo(repo: Repository, location: string): Promise<RepoInfo> {
  const c = repo.config;
  const areas = Object.entries(AREAS) as Array<[Area, string]>;
  const [listed, keys, snapshots, locks] = await Promise.all([
    Promise.all(areas.map(async ([area, prefix]) => [area, await usage(repo, prefix)] as const)),
    repo.listKeys(),
    listSnapshots(repo),
    listLocks(repo),
  ]);
  const storage = Object.fromEntries(
    listed.map(([area, u]) => [area, { count: u.count, bytes: u.bytes }]),
  ) as Record<Area, Usage>;
  const config = await repo.storage.stat('config');

  const byKind: Record<string, number> = {};
  for (const s of snapshots) {
    const kind = tagValue(s.tags, 'kind') ?? OTHER_KIND;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }

  const seqs = (listed.find(([area]) => area === 'audit')?.[1].keys ?? [])
    .map((k) => AUDIT_ENTRY.exec(k)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number);
  const lastSeq = seqs.length ? Math.max(...seqs) : undefined;
  const last =
    lastSeq === undefined
      ? undefined
      : (await readAuditLog(repo, { since: lastSeq, skipInvalid: true })).at(-1);

  return {
    location,
    id: c.id,
    version: c.version,
    created: c.created,
    chunker: c.chunker,
    contentId: c.contentId,
    compression: c.compression,
    encryption: c.encryption,
    packSize: c.packSize,
    keys: keys.length,
    snapshots: { total: snapshots.length, byKind },
    storage: {
      ...storage,
      totalBytes: config.size + Object.values(storage).reduce((n, u) => n + u.bytes, 0),
    },
    locks: locks.map(describeHeldLock),
    audit: {
      entries: seqs.length,
      ...(last
        ? { last: { seq: last.seq, time: last.time, action: last.action, actor: last.actor } }
        : {}),
    },
  };
}

function describeHeldLock(l: ListedLock): RepoInfo['locks'][number] {
  if (!l.readable) return { kind: 'unreadable', key: l.key, stale: false };
  return {
    kind: l.namespace === 'audit' ? 'audit' : l.exclusive ? 'exclusive' : 'shared',
    holder: `${l.user}@${l.host}`,
    pid: l.pid,
    since: l.time,
    expires: l.expires,
    stale: l.stale,
  };
}

const sized = (u: Usage) => `${u.count} file${u.count === 1 ? '' : 's'}, ${formatBytes(u.bytes)}`;

function printInfo(out: OutStream, i: RepoInfo): void {
  const ch = i.chunker;
  const kinds = Object.entries(i.snapshots.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const last = i.audit.last;
  out.write(
    fields([
      ['Location', i.location],
      ['Repository ID', i.id],
      ['Format version', i.version],
      ['Created', formatTime(i.created)],
      [
        'Chunker',
        `${ch.algorithm}, min ${formatBytes(ch.minSize)} / avg ${formatBytes(ch.avgSize)} / max ${formatBytes(ch.maxSize)}`,
      ],
      ['Content IDs', i.contentId],
      ['Compression', `${i.compression.algorithm} level ${i.compression.level}`],
      ['Encryption', i.encryption],
      ['Pack size', `${formatBytes(i.packSize)} (target)`],
      ['Keys', i.keys],
      ['Snapshots', `${i.snapshots.total}${kinds ? ` (${kinds})` : ''}`],
      ['Packs', sized(i.storage.packs)],
      ['Index', sized(i.storage.index)],
      ['Stored', `${formatBytes(i.storage.totalBytes)} in total`],
      [
        'Audit log',
        `${i.audit.entries} ${i.audit.entries === 1 ? 'entry' : 'entries'}${last ? `, last ${formatTime(last.time)} (${last.action} by ${last.actor})` : ''}`,
      ],
      ['Locks', i.locks.length || 'none'],
    ]),
  );
  for (const l of i.locks)
    out.write(
      l.kind === 'unreadable'
        ? `  unreadable lock file ${l.key} ("repo unlock --remove-all" removes it)\n`
        : `  ${l.kind} lock held by ${l.holder} (pid ${l.pid}) since ${formatTime(l.since!)}${l.stale ? ', stale ("repo unlock" removes it)' : ''}\n`,
    );
}
