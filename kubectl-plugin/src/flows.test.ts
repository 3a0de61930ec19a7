/** The main flows, through the built executable: repository life cycle from init to audit. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, readTree, sandbox, writeSampleTree, type Sandbox } from './test-util/cli.js';

interface SnapshotJson {
  id: string;
  tags: string[];
  stats: { bytesTotal: number; bytesAdded: number };
}
interface BackupJson {
  id: string;
  bytesTotal: number;
  bytesAdded: number;
  filesTotal: number;
}

describe('kubectl-backup repository life cycle (built executable, local repository)', () => {
  let sb: Sandbox;
  let data: string;
  const repo = ['--repo', 'repo'];
  const pw = { KUBECTL_BACKUP_PASSWORD: 'correct horse' };
  const run = (args: string[], env: Record<string, string> = pw) => sb.run([...args, ...repo], env);
  let first: BackupJson;
  let second: BackupJson;

  beforeAll(async () => {
    sb = await sandbox();
    data = path.join(sb.dir, 'data');
    await writeSampleTree(data);
  });
  afterAll(() => sb.cleanup());

  it('init creates a repository and refuses a second one', async () => {
    const r = await run(['repo', 'init']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^created repository [0-9a-f]{8} at .*repo\n$/);
    const again = await run(['repo', 'init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: a repository already exists at .*\n$/);
  });

  it('mover backup prints the id; --json gives the stats; the second backup adds ~nothing', async () => {
    const plain = await run(['mover', 'backup', 'data', '--tag', 'app=web', '--tag', 'nightly']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    first = { id: plain.stdout.trim(), bytesTotal: 0, bytesAdded: 0, filesTotal: 0 };

    const r = await run(['mover', 'backup', 'data', '--json']);
    expect(r.code).toBe(0);
    second = json<BackupJson>(r);
    expect(second.id).toMatch(/^[0-9a-f]{64}$/);
    expect(second.filesTotal).toBe(4);
    expect(second.bytesTotal).toBe(65_000 + 700_000 + JSON.stringify({ seed: 1 }).length);
    expect(second.bytesAdded).toBeLessThan(second.bytesTotal / 100);
    // Progress events are JSON lines on stderr, the last one marked done.
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; phase: string; done?: boolean });
    expect(events.every((e) => e.type === 'progress' && e.phase === 'backup')).toBe(true);
    expect(events.at(-1)?.done).toBe(true);
  });

  it('snapshots lists them as a table and as JSON, with --tag and --host filters', async () => {
    const all = json<SnapshotJson[]>(await run(['repo', 'snapshots', '-o', 'json']));
    expect(all.map((s) => s.id).sort()).toEqual([first.id, second.id].sort());
    expect(all.find((s) => s.id === first.id)!.stats.bytesAdded).toBeGreaterThan(700_000);
    const tagged = json<SnapshotJson[]>(
      await run(['repo', 'snapshots', '-o', 'json', '--tag', 'app=web']),
    );
    expect(tagged.map((s) => s.id)).toEqual([first.id]);
    expect(
      json<SnapshotJson[]>(
        await run(['repo', 'snapshots', '-o', 'json', '--host', 'no-such-host']),
      ),
    ).toEqual([]);
    const table = await run(['repo', 'snapshots']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TIME\s+HOST\s+TAGS\s+PATHS\/ITEMS\s+SIZE\s+ADDED$/);
    expect(lines[1]).toContain(first.id.slice(0, 8));
    expect(lines[1]).toContain('app=web,nightly');
  });

  it('mover restore writes byte-identical files', async () => {
    const r = await run(['mover', 'restore', first.id.slice(0, 10), 'restored']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^restored snapshot [0-9a-f]{8} to .*restored: 4 files, 2 dirs/);
    expect(await readTree(path.join(sb.dir, 'restored'))).toEqual(await readTree(data));
    const latest = await run(['mover', 'restore', 'latest', 'restored-latest', '--json']);
    expect(json<{ snapshot: string; files: number }>(latest)).toMatchObject({
      snapshot: second.id,
      files: 4,
    });
  });

  it('key add / list / passwd / remove', async () => {
    const added = await run(['repo', 'key', 'add'], {
      ...pw,
      KUBECTL_BACKUP_NEW_PASSWORD: 'second',
    });
    expect(added.stdout).toMatch(/^added key [0-9a-f]{8}\n$/);
    const keys = json<Array<{ id: string; current: boolean }>>(
      await run(['repo', 'key', 'list', '-o', 'json']),
    );
    expect(keys).toHaveLength(2);
    const secondKey = json<Array<{ id: string; current: boolean }>>(
      await run(['repo', 'key', 'list', '-o', 'json'], { KUBECTL_BACKUP_PASSWORD: 'second' }),
    ).find((k) => k.current)!;

    await writeFile(path.join(sb.dir, 'pw3'), 'third\n');
    const passwd = await run(['repo', 'key', 'passwd', '--new-password-file', 'pw3'], {
      KUBECTL_BACKUP_PASSWORD: 'second',
    });
    expect(passwd.code).toBe(0);
    expect(passwd.stdout).toContain(`key ${secondKey.id.slice(0, 8)} replaced by`);
    expect((await run(['repo', 'snapshots'], { KUBECTL_BACKUP_PASSWORD: 'second' })).code).toBe(1);
    expect((await sb.run(['repo', 'snapshots', ...repo, '--password-file', 'pw3'])).code).toBe(0);

    const table = await run(['repo', 'key', 'list']);
    expect(table.stdout.split('\n').filter((l) => l.startsWith('*'))).toHaveLength(1);
    const third = json<Array<{ id: string; current: boolean }>>(
      await run(['repo', 'key', 'list', '-o', 'json']),
    ).find((k) => !k.current)!;
    const refused = await run(['repo', 'key', 'remove', third.id], {
      KUBECTL_BACKUP_PASSWORD: 'third',
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^error: refusing to remove the key this session is using/);
    expect((await run(['repo', 'key', 'remove', third.id.slice(0, 8)])).code).toBe(0);
    expect((await run(['repo', 'snapshots'], { KUBECTL_BACKUP_PASSWORD: 'third' })).code).toBe(1);
  });

  it('check passes, also reading the data', async () => {
    const r = await run(['repo', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no errors found');
    const data = await run(['repo', 'check', '--read-data', '--json']);
    expect(data.code).toBe(0);
    expect(json<{ ok: boolean; packsRead: number }>(data)).toMatchObject({ ok: true });
    expect(json<{ packsRead: number }>(data).packsRead).toBeGreaterThan(0);
    expect((await run(['repo', 'check', '--read-data-subset', '1/2'])).code).toBe(0);
  });

  it('forget --dry-run changes nothing; forget removes; prune frees the data', async () => {
    const dry = await run(['repo', 'forget', '--keep-last', '1', '--dry-run', '-o', 'json']);
    expect(dry.code).toBe(0);
    const plan = json<{
      dryRun: boolean;
      keep: Array<{ id: string; reasons: string[] }>;
      remove: Array<{ id: string }>;
    }>(dry);
    expect(plan.dryRun).toBe(true);
    expect(plan.keep.map((k) => k.id)).toEqual([second.id]);
    expect(plan.remove.map((k) => k.id)).toEqual([first.id]);
    expect(json<unknown[]>(await run(['repo', 'snapshots', '-o', 'json']))).toHaveLength(2);

    const text = await run(['repo', 'forget', '--keep-last', '1', '--dry-run']);
    expect(text.stdout).toContain('would remove 1 snapshot(s)');

    const done = await run(['repo', 'forget', '--keep-last', '1']);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('kept 1, removed 1 snapshot(s)');
    expect(
      json<SnapshotJson[]>(await run(['repo', 'snapshots', '-o', 'json'])).map((s) => s.id),
    ).toEqual([second.id]);

    const pruned = await run(['repo', 'prune', '--json']);
    expect(pruned.code).toBe(0);
    expect(json<{ dryRun: boolean; snapshots: number }>(pruned)).toMatchObject({
      dryRun: false,
      snapshots: 1,
    });
    expect((await run(['repo', 'check', '--read-data'])).code).toBe(0);
    // Through the page cache (no direct I/O): the same bytes.
    const restored = await run(['mover', 'restore', 'latest', 'after-prune', '--page-cache']);
    expect(restored.code).toBe(0);
    expect(await readTree(path.join(sb.dir, 'after-prune'))).toEqual(await readTree(data));
  });

  it('copy --to sends the snapshots to a second repository', async () => {
    const init2 = await sb.run(['repo', 'init', '--repo', 'dr'], {
      KUBECTL_BACKUP_PASSWORD: 'dr-secret',
    });
    expect(init2.code).toBe(0);
    const noPw = await run(['repo', 'copy', '--to', 'dr']);
    expect(noPw.code).toBe(1);
    expect(noPw.stderr).toMatch(
      /^error: no destination repository password: set KUBECTL_BACKUP_TO_PASSWORD/m,
    );
    const copied = await run(['repo', 'copy', '--to', 'dr'], {
      ...pw,
      KUBECTL_BACKUP_TO_PASSWORD: 'dr-secret',
    });
    expect(copied.code).toBe(0);
    expect(copied.stdout).toContain('copied 1 snapshot(s), skipped 0');
    const again = await run(['repo', 'copy', '--to', 'dr', '--json'], {
      ...pw,
      KUBECTL_BACKUP_TO_PASSWORD: 'dr-secret',
    });
    expect(json<{ skipped: string[] }>(again).skipped).toEqual([second.id]);

    const dr = ['--repo', 'dr'];
    const drEnv = { KUBECTL_BACKUP_PASSWORD: 'dr-secret' };
    expect(
      json<unknown[]>(await sb.run(['repo', 'snapshots', '-o', 'json', ...dr], drEnv)),
    ).toHaveLength(1);
    expect((await sb.run(['mover', 'restore', 'latest', 'from-dr', ...dr], drEnv)).code).toBe(0);
    expect(await readTree(path.join(sb.dir, 'from-dr'))).toEqual(await readTree(data));
    const drAudit = json<Array<{ action: string }>>(
      await sb.run(['repo', 'audit', '-o', 'json', ...dr], drEnv),
    );
    expect(drAudit.map((e) => e.action)).toEqual([
      'repo.init',
      'snapshot.copy',
      'snapshot.copy',
      'snapshot.restore',
    ]);
  });

  it('init --from-repo makes a copy target that shares content ids', async () => {
    const env = { KUBECTL_BACKUP_PASSWORD: 'twin', KUBECTL_BACKUP_FROM_PASSWORD: 'correct horse' };
    const init = await sb.run(['repo', 'init', '--repo', 'twin', '--from-repo', 'repo'], env);
    expect(init.code, init.stderr).toBe(0);
    const wrong = await sb.run(['repo', 'init', '--repo', 'twin2', '--from-repo', 'repo'], {
      ...env,
      KUBECTL_BACKUP_FROM_PASSWORD: 'nope',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /^error: wrong password: no key of the repository at .*repo opens/,
    );
    const copied = await run(['repo', 'copy', '--to', 'twin', '--json'], {
      ...pw,
      KUBECTL_BACKUP_TO_PASSWORD: 'twin',
    });
    expect(json<{ copied: unknown[] }>(copied).copied).toHaveLength(1);
    const twin = ['--repo', 'twin'];
    expect((await sb.run(['mover', 'restore', 'latest', 'from-twin', ...twin], env)).code).toBe(0);
    expect(await readTree(path.join(sb.dir, 'from-twin'))).toEqual(await readTree(data));
  });

  it('unlock removes stale locks and is audited', async () => {
    const r = await run(['repo', 'unlock']);
    expect(r).toMatchObject({ code: 0, stdout: 'removed 0 stale lock(s)\n' });
  });

  it('the audit log records every mutating command and verifies', async () => {
    const entries = json<
      Array<{ action: string; outcome: string; actor: string; details?: { error?: string } }>
    >(await run(['repo', 'audit', '-o', 'json']));
    expect(entries.map((e) => `${e.action}:${e.outcome}`)).toEqual([
      'repo.init:success',
      'snapshot.create:success',
      'snapshot.create:success',
      'snapshot.restore:success',
      'snapshot.restore:success',
      'key.add:success',
      'key.passwd:success',
      'key.remove:failure',
      'key.remove:success',
      'snapshot.forget:success',
      'repo.prune:success',
      'snapshot.restore:success',
      'repo.unlock:success',
    ]);
    expect(entries[0]!.actor).toMatch(/.+@.+/);
    expect(entries[7]!.details?.error).toMatch(/refusing to remove/);
    const table = await run(['repo', 'audit']);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^SEQ\s+TIME\s+ACTOR\s+ACTION\s+TARGET\s+OUTCOME\s+DETAILS$/,
    );
    const verified = await run(['repo', 'audit', '--verify']);
    expect(verified).toMatchObject({
      code: 0,
      stdout: `audit log verified: ${entries.length} entries, chain intact\n`,
    });
  });

  it('check and audit --verify fail (exit 1) on tampered bytes', async () => {
    const packsDir = path.join(sb.dir, 'repo', 'data');
    const pack = await findFile(packsDir);
    const bytes = await readFile(pack);
    bytes[Math.floor(bytes.length / 3)]! ^= 0xff;
    await writeFile(pack, bytes);
    const r = await run(['repo', 'check', '--read-data']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error: pack /m);
    expect(r.stderr).toMatch(/^error: check found \d+ error\(s\) in the repository\n$/);

    const auditDir = path.join(sb.dir, 'repo', 'audit');
    const entry = path.join(auditDir, (await readdir(auditDir)).sort()[2]!);
    const sealed = await readFile(entry);
    sealed[sealed.length - 1]! ^= 1;
    await writeFile(entry, sealed);
    const v = await run(['repo', 'audit', '--verify']);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/^error: audit log verification failed at entry 3 /);
  });
});

async function findFile(dir: string): Promise<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isFile()) return p;
    if (e.isDirectory()) {
      const found = await findFile(p).catch(() => undefined);
      if (found) return found;
    }
  }
  throw new Error(`no file under ${dir}`);
}
