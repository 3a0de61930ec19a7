/** The init → backup → snapshots → restore flow against a real S3 server (s3rver), S3 URL form. */
import path from 'node:path';
import { startS3rver, type S3rverHandle } from '@kubectl-backup/engine/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, readTree, sandbox, writeSampleTree, type Sandbox } from './test-util/cli.js';

describe('kubectl-backup against s3rver (s3://bucket/prefix?endpoint=…)', () => {
  let s3: S3rverHandle;
  let sb: Sandbox;
  let env: Record<string, string>;

  beforeAll(async () => {
    s3 = await startS3rver();
    sb = await sandbox();
    await writeSampleTree(path.join(sb.dir, 'data'), 7);
    const url = `s3://${s3.bucket}/team/prod?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1&forcePathStyle=true`;
    env = {
      KUBECTL_BACKUP_REPOSITORY: url,
      KUBECTL_BACKUP_PASSWORD: 's3-password',
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
  });
  afterAll(async () => {
    await sb?.cleanup();
    await s3?.stop();
  });

  it('init, mover backup, snapshots, mover restore, check', async () => {
    const init = await sb.run(['repo', 'init'], env);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toContain(`at s3://${s3.bucket}/team/prod?endpoint=${s3.endpoint}`);

    const b = await sb.run(['mover', 'backup', 'data', '--tag', 'pvc=data-0', '--json'], env);
    expect(b.code, b.stderr).toBe(0);
    const snap = json<{ id: string; bytesTotal: number; bytesAdded: number }>(b);
    expect(snap.bytesAdded).toBeGreaterThan(700_000);

    const again = json<{ bytesAdded: number }>(
      await sb.run(['mover', 'backup', 'data', '--json'], env),
    );
    expect(again.bytesAdded).toBeLessThan(10_000);

    const list = json<Array<{ id: string; tags: string[] }>>(
      await sb.run(['repo', 'snapshots', '-o', 'json', '--tag', 'pvc=data-0'], env),
    );
    expect(list.map((s) => s.id)).toEqual([snap.id]);

    const r = await sb.run(['mover', 'restore', snap.id.slice(0, 8), 'restored'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(await readTree(path.join(sb.dir, 'restored'))).toEqual(
      await readTree(path.join(sb.dir, 'data')),
    );

    const check = await sb.run(['repo', 'check', '--read-data'], env);
    expect(check.code, check.stdout).toBe(0);
    expect(`${check.stdout}${check.stderr}`).not.toContain('s3-password');
  });
});
