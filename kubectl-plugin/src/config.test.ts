/** Repository location and password resolution, run in-process with injected streams and env. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRepositoryPath, keyOptions } from './config.js';
import { runInProcess } from './test-util/cli.js';

describe('config', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-config-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const env = () => ({ HOME: dir, KUBECTL_BACKUP_TEST_SCRYPT: 'fast' });

  it('defaults to a local repository in the user data directory and says so on stderr', async () => {
    const r = await runInProcess(['repo', 'init'], {
      env: { ...env(), KUBECTL_BACKUP_PASSWORD: 'pw' },
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const local = path.join(dir, '.local', 'share', 'kubectl-backup', 'repository');
    expect(r.stderr).toBe(
      `using the local repository ${local} (choose another with --repo, KUBECTL_BACKUP_REPOSITORY or "repository" in ${path.join(dir, '.config', 'kubectl-backup', 'config.yaml')})\n`,
    );
    expect(r.stdout).toContain(`at ${local}`);
    expect(defaultRepositoryPath({ HOME: '/h', XDG_DATA_HOME: '/xdg' })).toBe(
      '/xdg/kubectl-backup/repository',
    );
  });

  it('KUBECTL_BACKUP_REPOSITORY and --repo (relative to the working directory, or file://) choose the repository', async () => {
    const base = { ...env(), KUBECTL_BACKUP_PASSWORD: 'pw' };
    const viaEnv = await runInProcess(['repo', 'init'], {
      env: { ...base, KUBECTL_BACKUP_REPOSITORY: 'from-env' },
      cwd: dir,
    });
    expect(viaEnv.stdout).toContain(`at ${path.join(dir, 'from-env')}`);
    expect(viaEnv.stderr).toBe('');
    const viaUrl = await runInProcess(['repo', 'init', '--repo', `file://${dir}/from-url`], {
      env: base,
      cwd: dir,
    });
    expect(viaUrl.stdout).toContain(`at ${path.join(dir, 'from-url')}`);
    const json = await runInProcess(['repo', 'snapshots', '-o', 'json', '--repo', 'from-env'], {
      env: base,
      cwd: dir,
    });
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('prompts twice for a new password on a terminal and refuses a mismatch', async () => {
    const opts = { env: env(), cwd: dir };
    const mismatch = await runInProcess(['repo', 'init', '--repo', 'r'], {
      ...opts,
      prompt: ['one', 'two'],
    });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toBe('error: the two repository passwords do not match\n');
    const ok = await runInProcess(['repo', 'init', '--repo', 'r'], {
      ...opts,
      prompt: ['secret', 'secret'],
    });
    expect(ok.code).toBe(0);
    expect(ok.questions).toEqual([
      'enter repository password: ',
      'enter repository password again: ',
    ]);
    const open = await runInProcess(['repo', 'key', 'list', '--repo', 'r'], {
      ...opts,
      prompt: ['secret'],
    });
    expect(open.code).toBe(0);
    expect(open.questions).toEqual(['enter repository password: ']);
    const passwd = await runInProcess(['repo', 'key', 'passwd', '--repo', 'r'], {
      ...opts,
      prompt: ['secret', 'new', 'new'],
    });
    expect(passwd.code).toBe(0);
    expect(passwd.questions.slice(1)).toEqual([
      'enter new password: ',
      'enter new password again: ',
    ]);
    expect(
      (await runInProcess(['repo', 'key', 'list', '--repo', 'r'], { ...opts, prompt: ['new'] }))
        .code,
    ).toBe(0);
  });

  it('mover commands never prompt', async () => {
    const opts = { env: env(), cwd: dir };
    await runInProcess(['repo', 'init', '--repo', 'r'], { ...opts, prompt: ['s', 's'] });
    const r = await runInProcess(['mover', 'backup', '.', '--repo', 'r'], {
      ...opts,
      prompt: ['s'],
    });
    expect(r.code).toBe(1);
    expect(r.questions).toEqual([]);
    expect(r.stderr).toMatch(/^error: no repository password: set KUBECTL_BACKUP_PASSWORD/);
  });

  it('--password-file wins over the environment; one trailing newline is stripped', async () => {
    await writeFile(path.join(dir, 'pw'), 'from-file\n');
    const base = { ...env(), KUBECTL_BACKUP_PASSWORD: 'from-env' };
    expect(
      (
        await runInProcess(['repo', 'init', '--repo', 'r', '--password-file', 'pw'], {
          env: base,
          cwd: dir,
        })
      ).code,
    ).toBe(0);
    const r = await runInProcess(['repo', 'snapshots', '--repo', 'r'], {
      env: { ...env(), KUBECTL_BACKUP_PASSWORD: 'from-file' },
      cwd: dir,
    });
    expect(r.code).toBe(0);
    await writeFile(path.join(dir, 'empty'), '\n');
    const empty = await runInProcess(
      ['repo', 'snapshots', '--repo', 'r', '--password-file', 'empty'],
      { env: base, cwd: dir },
    );
    expect(empty.stderr).toBe('error: --password-file empty is empty\n');
  });

  it('KUBECTL_BACKUP_TEST_SCRYPT is test-only and strict', () => {
    expect(keyOptions({})).toEqual({});
    expect(keyOptions({ KUBECTL_BACKUP_TEST_SCRYPT: 'fast' }).scrypt?.N).toBe(1024);
    expect(() => keyOptions({ KUBECTL_BACKUP_TEST_SCRYPT: 'slow' })).toThrow(/must be "fast"/);
  });
});

describe('interruption', () => {
  it('an interrupted backup stops with exit 130, releases its lock and is audited as a failure', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kb-interrupt-'));
    try {
      const env = { HOME: dir, KUBECTL_BACKUP_TEST_SCRYPT: 'fast', KUBECTL_BACKUP_PASSWORD: 'pw' };
      await writeFile(path.join(dir, 'file'), 'data');
      expect((await runInProcess(['repo', 'init', '--repo', 'r'], { env, cwd: dir })).code).toBe(0);
      const interrupted = new AbortController();
      interrupted.abort();
      const r = await runInProcess(['mover', 'backup', '.', '--repo', 'r'], {
        env,
        cwd: dir,
        signal: interrupted.signal,
      });
      expect(r.code).toBe(130);
      expect(r.stderr).toBe('error: backup canceled\n');
      const audit = await runInProcess(['repo', 'audit', '-o', 'json', '--repo', 'r'], {
        env,
        cwd: dir,
      });
      const last = (JSON.parse(audit.stdout) as Array<{ action: string; outcome: string }>).at(-1);
      expect(last).toMatchObject({ action: 'snapshot.create', outcome: 'failure' });
      const prune = await runInProcess(['repo', 'prune', '--repo', 'r'], { env, cwd: dir });
      expect(prune.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
