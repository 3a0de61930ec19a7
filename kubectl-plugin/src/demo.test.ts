/** `npm run demo` runs the built dist/demo.js: it must succeed, twice in a row (idempotent). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runBin } from './test-util/cli.js';

const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));

describe('demo', () => {
  let dir: string | undefined;
  afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

  it('backs up twice (the second adds nothing), restores byte-identical, and reruns', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-demo-'));
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      KUBECTL_BACKUP_DEMO_DIR: path.join(dir, 'demo'),
    };
    for (let run = 0; run < 2; run++) {
      const r = await runBin([], env, dir, DEMO);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('repository password: "demo" (a demo-only default');
      expect(r.stdout).toMatch(/second backup: snapshot [0-9a-f]{8}, 4\.06 MiB backed up, 0 B new/);
      expect(r.stdout).toMatch(/compared 4 files, 4\.06 MiB: the restore is byte-identical/);
      expect(r.stdout).toContain('no errors found');
    }
  });
});
