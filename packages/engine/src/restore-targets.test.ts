import { afterEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TargetFiles } from './restore-targets.js';
import { tempDirs } from './testing/repo-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

describe('TargetFiles', () => {
  it('creates the files of one directory one after another, of different directories at once', async () => {
    const paths = ['a', 'b', 'c'].flatMap((d) =>
      Array.from({ length: 6 }, (_, k) => `/t/${d}/f${k}`),
    );
    const busy = new Map<string, number>();
    let most = 0;
    let mostInOneDir = 0;
    const created: string[] = [];
    const targets = new TargetFiles(paths, 8, async (path) => {
      const dir = dirname(path);
      busy.set(dir, (busy.get(dir) ?? 0) + 1);
      mostInOneDir = Math.max(mostInOneDir, busy.get(dir)!);
      most = Math.max(
        most,
        [...busy.values()].reduce((a, b) => a + b, 0),
      );
      await new Promise((resolve) => setTimeout(resolve, 2));
      busy.set(dir, busy.get(dir)! - 1);
      created.push(path);
    });
    await targets.ensure(paths.keys());
    // Asking again creates nothing twice.
    await targets.ensure([0, 7, 17]);
    expect(created.sort()).toEqual([...paths].sort());
    expect(mostInOneDir).toBe(1);
    expect(most).toBe(3);
  });

  it('replaces what is in the way and goes on after a failed creation in the same directory', async () => {
    const root = await dirs.make();
    const outside = join(await dirs.make(), 'victim');
    await writeFile(outside, 'keep');
    await symlink(outside, join(root, 'link'));
    // A directory that is not empty is not replaced: creating its file fails.
    await mkdir(join(root, 'dir'));
    await writeFile(join(root, 'dir', 'inside'), 'x');
    const paths = [join(root, 'link'), join(root, 'dir'), join(root, 'plain')];
    const targets = new TargetFiles(paths);
    await expect(targets.ensure([1])).rejects.toThrow();
    await targets.ensure([0, 2]);
    expect(await readFile(outside, 'utf8')).toBe('keep');
    expect(await readFile(join(root, 'link'), 'utf8')).toBe('');
    expect(await readFile(join(root, 'plain'), 'utf8')).toBe('');
  });
});
