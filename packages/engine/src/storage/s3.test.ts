import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EngineError, NotFoundError } from '../errors.js';
import { describeStorageConformance, listAll } from '../testing/conformance.js';
import { startS3rver } from '../testing/s3rver.js';
import type { S3rverHandle } from '../testing/s3rver.js';
import { isPermanent } from './retry.js';
import { S3Storage } from './s3.js';
import type { S3StorageOptions } from './s3.js';
import type { Storage } from './types.js';
import { openStorage, parseStorageUrl } from './url.js';

let s3: S3rverHandle;
let counter = 0;

beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => {
  await s3?.stop();
});

function s3rverStorage(extra: Partial<S3StorageOptions> = {}): S3Storage {
  return new S3Storage({
    bucket: s3.bucket,
    prefix: `run/t${++counter}`,
    endpoint: s3.endpoint,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ...extra,
  });
}

async function deleteAll(storage: Storage): Promise<void> {
  const keys: string[] = [];
  for await (const { key } of storage.list('')) keys.push(key);
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(keys.slice(i, i + 32).map((key) => storage.delete(key)));
  }
}

describe('S3Storage against s3rver', () => {
  describeStorageConformance(
    'S3Storage (s3rver)',
    async () => {
      // Each test gets its own prefix; s3rver's directory goes away in afterAll.
      const storage = s3rverStorage();
      return { storage, cleanup: () => storage.close() };
    },
  );

  it('keeps objects under its prefix, and apart from other prefixes', async () => {
    const a = s3rverStorage({ prefix: '/iso/a/' });
    const b = s3rverStorage({ prefix: 'iso/ab' });
    try {
      expect(a.location).toBe(`s3://${s3.bucket}/iso/a`);
      await a.put('config', Buffer.from('a'));
      await b.put('config', Buffer.from('b'));
      expect((await a.get('config')).toString()).toBe('a');
      expect(await listAll(a, '')).toEqual([{ key: 'config', size: 1 }]);
      expect(await listAll(b, '')).toEqual([{ key: 'config', size: 1 }]);
      const raw = new S3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      });
      const res = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'iso/' }));
      expect((res.Contents ?? []).map((o) => o.Key).sort()).toEqual(['iso/a/config', 'iso/ab/config']);
      // Foreign objects that are not valid keys (console "folder" markers) are not listed.
      await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'iso/a/folder/', Body: '' }));
      expect(await listAll(a, '')).toEqual([{ key: 'config', size: 1 }]);
      raw.destroy();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('works at the bucket root (no prefix)', async () => {
    const root = new S3Storage({
      bucket: 'rootbucket',
      endpoint: s3.endpoint,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    try {
      expect(root.location).toBe('s3://rootbucket');
      // The bucket does not exist: a clear, permanent error naming it.
      const err = await root.put('config', Buffer.from('x')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('ENOBUCKET');
      expect((err as EngineError).message).toContain('"rootbucket" does not exist');
      expect(isPermanent(err)).toBe(true);
      await expect(listAll(root, '')).rejects.toMatchObject({ code: 'ENOBUCKET' });
    } finally {
      await root.close();
    }
  });

  it('uses multipart uploads for large objects only, and reads them back', async () => {
    const storage = s3rverStorage({ multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    const commands: string[] = [];
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    try {
      const data = randomBytes(12 * 1024 * 1024 + 17);
      await storage.put('big', data);
      expect(commands).toEqual([
        'CreateMultipartUploadCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'UploadPartCommand',
        'CompleteMultipartUploadCommand',
      ]);
      expect((await storage.get('big')).equals(data)).toBe(true);
      const range = await storage.get('big', { offset: 5 * 1024 * 1024 - 10, length: 20 });
      expect(range.equals(data.subarray(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10))).toBe(true);

      commands.length = 0;
      await storage.put('small', randomBytes(6 * 1024 * 1024));
      expect(commands).toEqual(['PutObjectCommand']);
    } finally {
      await deleteAll(storage);
      await storage.close();
    }
  });

  it('reports wrong credentials as a permanent EACCESS error without the secret', async () => {
    const storage = s3rverStorage({
      credentials: { accessKeyId: 'NOSUCHKEYID', secretAccessKey: 'wrong-secret-value' },
    });
    try {
      const err = await storage.get('config').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect(err).not.toBeInstanceOf(NotFoundError);
      expect((err as EngineError).code).toBe('EACCESS');
      expect((err as EngineError).message).toContain(storage.location);
      expect((err as EngineError).message).not.toContain('wrong-secret-value');
      expect(isPermanent(err)).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('reports an unreachable endpoint as a transient EIO error', async () => {
    const storage = s3rverStorage({ endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    try {
      const err = await storage.stat('config').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('EIO');
      expect(isPermanent(err)).toBe(false);
    } finally {
      await storage.close();
    }
  });

  describe('without AWS configuration', () => {
    beforeAll(() => {
      for (const name of [
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_PROFILE',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      ]) {
        vi.stubEnv(name, undefined);
      }
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    });
    afterAll(() => {
      vi.unstubAllEnvs();
    });

    it('reports a missing region as ECONFIG', async () => {
      const storage = new S3Storage({ bucket: 'b', prefix: 'p' });
      try {
        const err = await storage.stat('config').catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ECONFIG' });
        expect((err as Error).message).toMatch(/no AWS region for s3:\/\/b\/p: add \?region=/);
        expect(isPermanent(err)).toBe(true);
      } finally {
        await storage.close();
      }
    });

    it('reports missing credentials as ECREDENTIALS', async () => {
      const storage = s3rverStorage({ credentials: undefined });
      try {
        const err = await storage.get('config').catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'ECREDENTIALS' });
        expect((err as Error).message).toMatch(/AWS_ACCESS_KEY_ID/);
        expect(isPermanent(err)).toBe(true);
      } finally {
        await storage.close();
      }
    });

    it('takes credentials from the environment', async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', s3.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.secretAccessKey);
      const storage = s3rverStorage({ credentials: undefined });
      try {
        await storage.put('config', Buffer.from('env'));
        expect((await storage.get('config')).toString()).toBe('env');
      } finally {
        await storage.close();
      }
    });
  });

  it('rejects a malformed endpoint up front', () => {
    expect(() => s3rverStorage({ endpoint: 'localhost:9000' })).toThrow(/invalid S3 endpoint/);
  });

  it('opens through a repository URL, wrapped in retries', async () => {
    const url = s3.url(`url/t${++counter}`);
    const storage = openStorage(url, {
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    try {
      expect(storage.location).toBe(`s3://${s3.bucket}/url/t${counter}`);
      await storage.put('snapshots/one', Buffer.from('1'));
      expect(await listAll(storage, 'snapshots/')).toEqual([{ key: 'snapshots/one', size: 1 }]);
      await expect(storage.get('snapshots/two')).rejects.toBeInstanceOf(NotFoundError);
    } finally {
      await deleteAll(storage);
      await storage.close();
    }
  });
});

/*
 * The same suite against a real S3 (or MinIO, Ceph…) when KUBECTL_BACKUP_TEST_S3_URL is set,
 * e.g. `s3://my-bucket/ci?region=eu-west-1` or `s3://b/p?endpoint=http://127.0.0.1:9000`, with
 * credentials from the usual AWS environment variables or profile. Each test writes below a
 * fresh sub-prefix and deletes what it wrote.
 */
const externalUrl = process.env.KUBECTL_BACKUP_TEST_S3_URL;

describe.skipIf(!externalUrl)('S3Storage against KUBECTL_BACKUP_TEST_S3_URL', () => {
  const run = `kb-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  let n = 0;
  describeStorageConformance('S3Storage (external)', async () => {
    const spec = parseStorageUrl(externalUrl!);
    if (spec.kind !== 's3') throw new Error('KUBECTL_BACKUP_TEST_S3_URL must be an s3:// URL');
    const { kind: _kind, ...options } = spec;
    const prefix = [spec.prefix, run, `t${++n}`].filter(Boolean).join('/');
    const storage = new S3Storage({ ...options, prefix });
    return {
      storage,
      cleanup: async () => {
        await deleteAll(storage);
        await storage.close();
      },
    };
  });
});
