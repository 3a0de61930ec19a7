import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess, writeSampleTree } from '../../test-util/cli.js';

describe('repo diff', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists added, removed and modified paths between two snapshots', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-diff-'));
    const env = { HOME: dir, KUBECTL_BACKUP_TEST_SCRYPT: 'fast', KUBECTL_BACKUP_PASSWORD: 'pw' };
    const kb = (...args: string[]) => runInProcess([...args, '--repo', 'r'], { env, cwd: dir });
    const data = path.join(dir, 'data');
    await writeSampleTree(data);
    await kb('repo', 'init');
    const first = (await kb('mover', 'backup', 'data')).stdout.trim();
    await writeFile(path.join(data, 'notes.txt'), 'rewritten\n');
    await writeFile(path.join(data, 'new.txt'), 'new file\n');
    await unlink(path.join(data, 'empty'));
    const second = (await kb('mover', 'backup', 'data')).stdout.trim();

    const text = await kb('repo', 'diff', first.slice(0, 8), 'latest');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe(
      '-  empty\n+  new.txt\nM  notes.txt\n' +
        `${first.slice(0, 8)} → ${second.slice(0, 8)}: 1 added, 1 removed, 1 changed; +9 B -63.5 KiB\n`,
    );
    const json = JSON.parse((await kb('repo', 'diff', first, second, '-o', 'json')).stdout) as {
      from: string;
      to: string;
      added: number;
    };
    expect(json).toMatchObject({ from: first, to: second, added: 1 });
  });
});
