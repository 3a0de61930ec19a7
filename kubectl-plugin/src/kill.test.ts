import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytesSeeded } from '@kubectl-backup/engine/testing';
import { BIN, sandbox, type Sandbox } from './test-util/cli.js';

let box: Sandbox | undefined;
afterEach(async () => {
  await box?.cleanup();
  box = undefined;
});

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    // Temp files of writes in progress (`.tmp~…`) do not count.
    n += e.isDirectory() ? await countFiles(path.join(dir, e.name)) : e.name.startsWith('.') ? 0 : 1;
  }
  return n;
}

describe('a backup killed with SIGKILL halfway', () => {
  it('leaves a repository that checks clean, and the next backup reuses what was uploaded', async () => {
    box = await sandbox();
    const repo = path.join(box.dir, 'repo');
    const data = path.join(box.dir, 'data');
    await mkdir(data);
    // 96 MiB of incompressible data: twelve 8 MiB packs, an index file every four.
    for (let i = 0; i < 6; i++) await writeFile(path.join(data, `part-${i}.bin`), randomBytesSeeded(16 << 20, 50 + i));
    const env = { ...box.env, KUBECTL_BACKUP_REPOSITORY: repo, KUBECTL_BACKUP_PASSWORD: 'pw' };
    expect((await box.run(['repo', 'init'], env)).code).toBe(0);

    const child = spawn(process.execPath, [BIN, 'mover', 'backup', data], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Kill it once an index file exists and more packs than it describes are uploaded.
    for (let i = 0; i < 600; i++) {
      const [indexes, packs] = [await countFiles(path.join(repo, 'index')), await countFiles(path.join(repo, 'data'))];
      if (indexes >= 1 && packs >= 6) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await exited;
    expect(await countFiles(path.join(repo, 'snapshots'))).toBe(0);

    const check = await box.run(['repo', 'check', '--read-data'], env);
    expect(check.code, check.stderr).toBe(0);

    const again = await box.run(['mover', 'backup', data, '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as { bytesTotal: number; bytesAdded: number };
    expect(result.bytesTotal).toBe(96 << 20);
    // At least the packs of the first index file (4 × 8 MiB) were not uploaded again.
    expect(result.bytesAdded).toBeLessThanOrEqual(result.bytesTotal - (24 << 20));
    const after = await box.run(['repo', 'check'], env);
    expect(after.code, after.stderr).toBe(0);
  }, 300_000);
});
