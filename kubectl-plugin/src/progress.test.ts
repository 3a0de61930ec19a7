/** The live progress line on a terminal, in-process with a pretend-TTY stderr. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInProcess, writeSampleTree } from './test-util/cli.js';

describe('progress rendering', () => {
  let dir: string;
  const env = () => ({
    HOME: dir,
    KUBECTL_BACKUP_TEST_SCRYPT: 'fast',
    KUBECTL_BACKUP_PASSWORD: 'pw',
  });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-progress-'));
    await writeSampleTree(path.join(dir, 'data'));
    expect(
      (await runInProcess(['repo', 'init', '--repo', 'r'], { env: env(), cwd: dir })).code,
    ).toBe(0);
    const backup = await runInProcess(['mover', 'backup', 'data', '--repo', 'r'], {
      env: env(),
      cwd: dir,
      tty: true,
    });
    expect(backup.code).toBe(0);
    // Mover commands keep plain output even on a terminal.
    expect(backup.stderr).toBe('');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('rewrites one line on a terminal and clears it before the result', async () => {
    const r = await runInProcess(['repo', 'check', '--read-data', '--repo', 'r'], {
      env: env(),
      cwd: dir,
      tty: true,
    });
    expect(r.code).toBe(0);
    const clear = '\r\u001b[2K';
    expect(r.stderr.startsWith(`${clear}check  `)).toBe(true);
    expect(r.stderr.slice(clear.length)).toMatch(/^check {2}\d+\/\d+ files {2}/);
    expect(r.stderr.endsWith(clear)).toBe(true);
    expect(r.stderr).not.toContain('\n');
    expect(r.stdout).toContain('no errors found');
  });

  it('prints nothing but the result when stderr is not a terminal', async () => {
    const r = await runInProcess(['repo', 'check', '--read-data', '--repo', 'r'], {
      env: env(),
      cwd: dir,
    });
    expect(r.stderr).toBe('');
  });

  it('--json writes progress events as JSON lines on stderr and the report on stdout', async () => {
    const r = await runInProcess(['repo', 'prune', '--json', '--repo', 'r'], {
      env: env(),
      cwd: dir,
      tty: true,
    });
    expect(r.code).toBe(0);
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; phase: string });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'progress' && e.phase === 'prune')).toBe(true);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false });
  });
});
