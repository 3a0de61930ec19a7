/** What a person sees when something is wrong: one line, a next step, no stack, no secret. */
import path from 'node:path';
import { acquireLock, LocalStorage, Repository } from '@kubectl-backup/engine';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandbox, type Sandbox } from './test-util/cli.js';

const SECRET = 'the-real-secret';
const pw = { KUBECTL_BACKUP_PASSWORD: SECRET };

/** Exactly one line on stderr, starting with `error:`, no stack frames, no password. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(/^error: [^\n]+\n$/);
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).not.toContain(SECRET);
}

describe('errors and usage (built executable)', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await sandbox();
    expect((await sb.run(['repo', 'init', '--repo', 'repo'], pw)).code).toBe(0);
  });
  afterAll(() => sb.cleanup());

  it('wrong password: exit 1 and one line', async () => {
    const r = await sb.run(['repo', 'snapshots', '--repo', 'repo'], {
      KUBECTL_BACKUP_PASSWORD: 'wrong',
    });
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /wrong password/);
    expect(r.stdout).toBe('');
  });

  it('--debug adds the stack trace', async () => {
    const r = await sb.run(['repo', 'snapshots', '--repo', 'repo', '--debug'], {
      KUBECTL_BACKUP_PASSWORD: 'wrong',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: wrong password/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('missing repository: suggests repo init, before asking for a password', async () => {
    const r = await sb.run(['repo', 'snapshots', '--repo', 'nothing-here']);
    expect(r.code).toBe(1);
    expectOneLineError(
      r.stderr,
      /no repository at .*nothing-here; create one with "kubectl backup repo init --repo .*nothing-here"/,
    );
  });

  it('no password and no terminal: a clear error, no hang', async () => {
    const r = await sb.run(['repo', 'snapshots', '--repo', 'repo']);
    expect(r.code).toBe(1);
    expectOneLineError(
      r.stderr,
      /no repository password: set KUBECTL_BACKUP_PASSWORD or pass --password-file/,
    );
    const init = await sb.run(['repo', 'init', '--repo', 'other']);
    expectOneLineError(init.stderr, /no repository password/);
  });

  it('an unreadable or empty password file is named', async () => {
    const r = await sb.run([
      'repo',
      'snapshots',
      '--repo',
      'repo',
      '--password-file',
      'missing.txt',
    ]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, /cannot read --password-file missing.txt: ENOENT/);
  });

  it('bad flags and arguments: usage error, exit 2', async () => {
    const unknown = await sb.run(['repo', 'snapshots', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--bogus'/);
    const count = await sb.run(['repo', 'forget', '--keep-last', 'many']);
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/argument 'many' is invalid/);
    const noPolicy = await sb.run(['repo', 'forget', '--repo', 'repo'], pw);
    expect(noPolicy.code).toBe(2);
    expectOneLineError(noPolicy.stderr, /give a policy: at least one of --keep-last/);
    const within = await sb.run(['repo', 'forget', '--repo', 'repo', '--keep-within', '3x'], pw);
    expect(within.code).toBe(2);
    expectOneLineError(within.stderr, /invalid duration "3x"/);
    const subset = await sb.run(['repo', 'check', '--read-data-subset', 'half'], pw);
    expect(subset.code).toBe(2);
    const both = await sb.run(['repo', 'check', '--read-data', '--read-data-subset', '1/2']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/cannot be used with option '--read-data'/);
    const missingArg = await sb.run(['mover', 'restore', 'latest']);
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toMatch(/^error: missing required argument 'path'/);
    const copy = await sb.run(['repo', 'copy']);
    expect(copy.code).toBe(2);
    expect(copy.stderr).toMatch(/required option '--to <url>' not specified/);
    const notDir = await sb.run(['mover', 'backup', 'no-such-dir', '--repo', 'repo'], pw);
    expect(notDir.code).toBe(2);
    expectOneLineError(notDir.stderr, /no-such-dir is not a directory/);
    const badSnap = await sb.run(['mover', 'restore', 'xyz', 'out', '--repo', 'repo'], pw);
    expect(badSnap.code).toBe(2);
    expectOneLineError(badSnap.stderr, /"xyz" is not a snapshot id/);
  });

  it('bad repository URLs are explained', async () => {
    const r = await sb.run(['repo', 'snapshots', '--repo', 'ftp://host/x'], pw);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /unsupported repository URL scheme "ftp:"/);
    const creds = await sb.run(['repo', 'snapshots', '--repo', 's3://key:secret@bucket/p'], pw);
    expectOneLineError(creds.stderr, /credentials in the repository URL are not supported/);
    expect(creds.stderr).not.toContain('secret@');
  });

  it('an unreachable S3 endpoint is named as such', async () => {
    const r = await sb.run(
      ['repo', 'snapshots', '--repo', 's3://bucket/p?endpoint=http://127.0.0.1:9'],
      {
        ...pw,
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
      },
    );
    expect(r.code).toBe(1);
    expectOneLineError(
      r.stderr,
      /cannot reach the repository storage at s3:\/\/bucket\/p\?endpoint=http:\/\/127.0.0.1:9: .*ECONNREFUSED/,
    );
    expect(r.stderr).not.toContain('aws-secret-value');
  });

  it('a locked repository names the holder and suggests repo unlock; unlock removes stale locks', async () => {
    const repo = await Repository.open(new LocalStorage(path.join(sb.dir, 'repo')), SECRET, {
      skipIndex: true,
    });
    const lock = await acquireLock(repo, {
      exclusive: true,
      user: 'alice',
      host: 'laptop-7',
      pid: 4242,
    });
    try {
      const r = await sb.run(['repo', 'prune', '--repo', 'repo'], pw);
      expect(r.code).toBe(1);
      expectOneLineError(
        r.stderr,
        /is already locked: an exclusive lock held by alice@laptop-7 \(pid 4242\).*"kubectl backup repo unlock"/,
      );
      const live = await sb.run(['repo', 'unlock', '--repo', 'repo'], pw);
      expect(live.stdout).toMatch(
        /^removed 0 stale lock\(s\)\nstill locked: an exclusive lock held by alice@laptop-7/,
      );
    } finally {
      await lock.release();
    }
    const stale = await acquireLock(repo, {
      exclusive: false,
      ttlMs: 1,
      refreshMs: 0,
      user: 'bob',
    });
    await new Promise((r) => setTimeout(r, 20));
    const r = await sb.run(['repo', 'unlock', '--repo', 'repo'], pw);
    expect(r).toMatchObject({ code: 0, stdout: 'removed 1 stale lock(s)\n' });
    await stale.release().catch(() => undefined);
    const all = await acquireLock(repo, { exclusive: true });
    const removeAll = await sb.run(['repo', 'unlock', '--remove-all', '--repo', 'repo'], pw);
    expect(removeAll.stdout).toBe('removed 1 lock(s)\n');
    await all.release().catch(() => undefined);
  });

  it('help says "kubectl backup" and explains flags and environment', async () => {
    const top = await sb.run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: kubectl backup \[options\] \[command\]/);
    expect(top.stdout).toContain('KUBECTL_BACKUP_REPOSITORY');
    const forget = await sb.run(['repo', 'forget', '--help']);
    expect(forget.stdout).toMatch(/^Usage: kubectl backup repo forget \[options\]/);
    for (const flag of [
      '--keep-last',
      '--keep-hourly',
      '--keep-daily',
      '--keep-weekly',
      '--keep-monthly',
      '--keep-yearly',
      '--keep-within',
      '--keep-tag',
      '--tag',
      '--host',
      '--dry-run',
      '--prune',
      '--repo',
      '--password-file',
    ]) {
      expect(forget.stdout).toContain(flag);
    }
    expect(forget.stdout).toContain('KUBECTL_BACKUP_PASSWORD');
    const mover = await sb.run(['mover', 'backup', '--help']);
    expect(mover.stdout).toMatch(/^Usage: kubectl backup mover backup \[options\] <path>/);
    // no arguments and no terminal: help and a usage error, not the terminal UI (nor a hang)
    const none = await sb.run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: kubectl backup');
    expect(none.stderr).toContain('error: no command given (the terminal UI needs a terminal)');
    expect(none.stdout).toBe('');
  });
});
