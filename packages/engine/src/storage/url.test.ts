import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError, ReadOnlyError } from '../errors.js';
import { LocalStorage } from './local.js';
import { MemoryStorage } from './memory.js';
import { ReadOnlyStorage } from './readonly.js';
import { RetryingStorage } from './retry.js';
import { S3Storage } from './s3.js';
import { describeLocation, openStorage, parseStorageUrl, resetMemoryStorages } from './url.js';

const noEnv = {};

function usageError(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('EUSAGE');
    return err as EngineError;
  }
  throw new Error('expected a usage error');
}

describe('parseStorageUrl', () => {
  it('reads plain paths and file URLs as local directories', () => {
    expect(parseStorageUrl('/srv/backups')).toEqual({ kind: 'local', path: '/srv/backups' });
    expect(parseStorageUrl('repo')).toEqual({ kind: 'local', path: path.resolve('repo') });
    expect(parseStorageUrl('./a/../b')).toEqual({ kind: 'local', path: path.resolve('b') });
    expect(parseStorageUrl('file:///srv/my%20repo')).toEqual({ kind: 'local', path: '/srv/my repo' });
    expect(parseStorageUrl('file://localhost/srv/x')).toEqual({ kind: 'local', path: '/srv/x' });
    expect(usageError(() => parseStorageUrl('file://otherhost/srv/x')).message).toMatch(/local path/);
  });

  it('reads memory URLs', () => {
    expect(parseStorageUrl('memory://unit')).toEqual({ kind: 'memory', name: 'unit' });
    expect(parseStorageUrl('memory://')).toEqual({ kind: 'memory', name: 'memory' });
  });

  it('reads S3 URLs with their defaults', () => {
    expect(parseStorageUrl('s3://bucket/some/prefix/', noEnv)).toEqual({
      kind: 's3',
      bucket: 'bucket',
      prefix: 'some/prefix',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    });
    expect(parseStorageUrl('s3://bucket', { AWS_REGION: 'eu-west-3' })).toMatchObject({
      prefix: '',
      region: 'eu-west-3',
    });
    expect(parseStorageUrl('s3://bucket', { AWS_DEFAULT_REGION: 'ap-south-1' })).toMatchObject({
      region: 'ap-south-1',
    });
    expect(parseStorageUrl('s3://b/p?endpoint=http://127.0.0.1:9000', { AWS_REGION: 'eu-west-3' })).toEqual({
      kind: 's3',
      bucket: 'b',
      prefix: 'p',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(
      parseStorageUrl('s3://b/p?endpoint=https%3A%2F%2Fminio.local&region=eu-1&forcePathStyle=false', noEnv),
    ).toMatchObject({ endpoint: 'https://minio.local', region: 'eu-1', forcePathStyle: false });
    expect(parseStorageUrl('s3://b?forcePathStyle=true', noEnv)).toMatchObject({ forcePathStyle: true });
  });

  it('rejects bad S3 URLs with usage errors that do not echo secrets', () => {
    const creds = usageError(() => parseStorageUrl('s3://AKIAEXAMPLE:topsecret@bucket/p'));
    expect(creds.message).toMatch(/credentials in the repository URL/);
    expect(creds.message).not.toContain('topsecret');
    expect(creds.message).not.toContain('AKIAEXAMPLE');
    const param = usageError(() => parseStorageUrl('s3://b/p?secretAccessKey=topsecret'));
    expect(param.message).toMatch(/unknown S3 URL parameter "secretAccessKey"/);
    expect(param.message).not.toContain('topsecret');
    expect(usageError(() => parseStorageUrl('s3:///prefix')).message).toMatch(/needs a bucket/);
    expect(usageError(() => parseStorageUrl('s3://b?endpoint=ftp://x')).message).toMatch(/invalid S3 endpoint/);
    expect(usageError(() => parseStorageUrl('s3://b?endpoint=nonsense')).message).toMatch(/invalid S3 endpoint/);
    const epCreds = usageError(() => parseStorageUrl('s3://b?endpoint=http://u:topsecret@h:9000'));
    expect(epCreds.message).not.toContain('topsecret');
    expect(usageError(() => parseStorageUrl('s3://b?forcePathStyle=yes')).message).toMatch(/forcePathStyle/);
  });

  it('rejects unknown schemes and empty locations', () => {
    const err = usageError(() => parseStorageUrl('gs://bucket/x'));
    expect(err.message).toMatch(/unsupported repository URL scheme "gs:"/);
    expect(err.message).toMatch(/s3:\/\/bucket\/prefix/);
    expect(usageError(() => parseStorageUrl('')).message).toMatch(/no repository location/);
    expect(usageError(() => parseStorageUrl('  ')).message).toMatch(/no repository location/);
    expect(usageError(() => parseStorageUrl('sftp://user:pw@host/x')).message).not.toContain('pw');
  });
});

describe('openStorage', () => {
  let dir: string | undefined;
  afterEach(async () => {
    resetMemoryStorages();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('opens a working local storage from a path or a file URL', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-url-'));
    const a = openStorage(path.join(dir, 'repo'));
    expect(a).toBeInstanceOf(LocalStorage);
    await a.put('config', Buffer.from('c'));
    const b = openStorage(pathToFileURL(path.join(dir, 'repo')).href);
    expect(b.location).toBe(path.join(dir, 'repo'));
    expect((await b.get('config')).toString()).toBe('c');
  });

  it('shares memory storages by name until reset', async () => {
    const a = openStorage('memory://shared');
    expect(a).toBeInstanceOf(MemoryStorage);
    await a.put('k', Buffer.from('v'));
    expect((await openStorage('memory://shared').get('k')).toString()).toBe('v');
    expect(await openStorage('memory://other').exists('k')).toBe(false);
    resetMemoryStorages();
    expect(await openStorage('memory://shared').exists('k')).toBe(false);
  });

  it('wraps S3 in retries unless told not to, without any network access', async () => {
    const s = openStorage('s3://bucket/p?endpoint=http://127.0.0.1:9', { env: noEnv });
    expect(s).toBeInstanceOf(RetryingStorage);
    expect(s.location).toBe('s3://bucket/p');
    expect((s as RetryingStorage).inner).toBeInstanceOf(S3Storage);
    const raw = openStorage('s3://bucket/p?endpoint=http://127.0.0.1:9', { retry: false, env: noEnv });
    expect(raw).toBeInstanceOf(S3Storage);
    await s.close();
    await raw.close();
  });

  it('adds the read-only wrapper on request', async () => {
    const s = openStorage('memory://ro', { readOnly: true });
    expect(s).toBeInstanceOf(ReadOnlyStorage);
    await expect(s.put('k', Buffer.from('v'))).rejects.toBeInstanceOf(ReadOnlyError);
  });

  it('reports an unknown scheme clearly', () => {
    expect(usageError(() => openStorage('ftp://host/repo')).message).toMatch(/unsupported repository URL scheme "ftp:"/);
  });
});

describe('describeLocation', () => {
  it('keeps what identifies a repository and drops secrets', () => {
    expect(describeLocation('/srv/backups')).toBe('/srv/backups');
    expect(describeLocation('file:///srv/my%20repo')).toBe('/srv/my repo');
    expect(describeLocation('memory://unit')).toBe('memory://unit');
    expect(describeLocation('s3://bucket/prefix/')).toBe('s3://bucket/prefix');
    expect(describeLocation('s3://AKIA:topsecret@bucket/p?region=eu-west-1')).toBe('s3://bucket/p?region=eu-west-1');
    expect(
      describeLocation('s3://b/p?endpoint=http://user:pw@minio:9000/path?x=1&forcePathStyle=true&token=abc'),
    ).toBe('s3://b/p?endpoint=http://minio:9000&forcePathStyle=true');
    expect(describeLocation('sftp://user:pw@host/x?key=secret')).toBe('sftp://host/x');
    expect(describeLocation('weird://user:pw@[bad')).toBe('weird://[bad');
  });
});
