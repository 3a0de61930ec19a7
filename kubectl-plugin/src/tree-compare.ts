/** Reads every regular file under a directory, by relative path (demo and tests compare trees). */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export async function readTreeBytes(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(dir, e.name), p);
      else if (e.isFile()) out.set(p, await readFile(path.join(dir, e.name)));
    }
  };
  await walk(root, '');
  return out;
}
