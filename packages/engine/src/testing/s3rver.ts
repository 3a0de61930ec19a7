/**
 * A real S3 server for tests: s3rver (a devDependency of the engine, resolved only when a test
 * starts it) on 127.0.0.1, on a free port, storing in a fresh temp directory.
 *
 * s3rver runs in a child Node process started with `--openssl-legacy-provider`: it signs its
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) only offers through
 * the legacy provider — without it every listing longer than one page fails with HTTP 500.
 * The separate process also keeps s3rver's synchronous directory walks off the test's event
 * loop. The child exits when `stop()` is called or when the test process goes away.
 *
 * ```ts
 * const s3 = await startS3rver();
 * const storage = new S3Storage({ bucket: s3.bucket, prefix: 'p', endpoint: s3.endpoint,
 *   credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
 * …
 * await s3.stop();
 * ```
 *
 * Known differences from S3 (tests must not depend on them): s3rver does not verify SigV4
 * signatures (only the access key id), ignores `If-None-Match` and checksum headers, and gives
 * multipart objects a plain MD5 ETag.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: 'S3RVER';
  secretAccessKey: 'S3RVER';
  /** Where s3rver keeps its files. */
  directory: string;
  /** A repository URL for `openStorage`: `s3://bucket/prefix?endpoint=…&region=us-east-1`. */
  url(prefix?: string): string;
  /** Stops the server and deletes its directory. */
  stop(): Promise<void>;
}

export interface StartS3rverOptions {
  /** Bucket to create (default `test-bucket`). */
  bucket?: string;
  /** Print s3rver's request log (default false). */
  verbose?: boolean;
  /** How long to wait for the server to listen (default 20 s). */
  startTimeoutMs?: number;
}

/**
 * Runs in the child process (CommonJS, via `node -e`). Besides starting s3rver it makes its
 * file store behave like S3 where s3rver 3.7.1 does not: `putObject` writes in place and
 * answers before its bytes are flushed, and deletes prune directories that concurrent puts are
 * writing into. Here a put streams into a temp file first, a per-key lock orders the short
 * critical sections (rename + metadata, metadata + open, delete), deletes leave directories
 * alone and listings that trip over a vanished file walk again — so objects appear whole and
 * at once (atomic puts, read-after-write), as on S3.
 */
const CHILD_SCRIPT = `
'use strict';
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');
const { Transform } = require('stream');
const { pipeline } = require('stream/promises');
const modulePath = process.env.KB_S3RVER_MODULE;
const S3rver = require(modulePath);
const FilesystemStore = require(path.join(path.dirname(modulePath), 'stores', 'filesystem.js'));
const tmpDir = process.env.KB_S3RVER_TMP;

// Per-object lock: a put's rename + metadata write, a get's metadata read + open, a delete and
// a copy of the same key never interleave.
const tails = new Map();
function locked(bucket, key, fn) {
  const id = bucket + '/' + key;
  const run = (tails.get(id) || Promise.resolve()).then(fn, fn);
  const tail = run.then(() => {}, () => {});
  tails.set(id, tail);
  tail.then(() => { if (tails.get(id) === tail) tails.delete(id); });
  return run;
}
const proto = FilesystemStore.prototype;
for (const name of ['getObject', 'existsObject']) {
  const original = proto[name];
  proto[name] = function (bucket, key, ...rest) {
    return locked(bucket, key, () => original.call(this, bucket, key, ...rest));
  };
}
const originalCopy = proto.copyObject;
proto.copyObject = function (srcBucket, srcKey, destBucket, destKey, ...rest) {
  return locked(destBucket, destKey, () => originalCopy.call(this, srcBucket, srcKey, destBucket, destKey, ...rest));
};
// Delete without pruning empty directories: the pruning raced with puts into them.
proto.deleteObject = function (bucket, key) {
  return locked(bucket, key, () =>
    Promise.all(['object', 'object.md5', 'metadata.json'].map((resource) =>
      fs.promises.rm(this.getResourcePath(bucket, key, resource), { force: true }))));
};
// A listing walks the tree synchronously and fails if a file goes away under it: walk again.
const originalList = proto.listObjects;
proto.listObjects = async function (...args) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await originalList.apply(this, args);
    } catch (err) {
      if (err.code !== 'ENOENT' || attempt >= 10) throw err;
    }
  }
};
let counter = 0;
proto.putObject = async function (object) {
  const tmp = path.join(tmpDir, String(++counter));
  const md5 = crypto.createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5.update(object.content);
      size = object.content.length;
      await fs.promises.writeFile(tmp, object.content);
    } else {
      const count = new Transform({
        transform(chunk, encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(object.content, count, fs.createWriteStream(tmp));
    }
    const digest = md5.digest('hex');
    await locked(object.bucket, object.key, async () => {
      const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
      await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
      await fs.promises.rename(tmp, objectPath);
      await this.putMetadata(object.bucket, object.key, object.metadata, digest);
    });
    return { size, md5: digest };
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
};

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: process.env.KB_S3RVER_DIR,
  silent: process.env.KB_S3RVER_VERBOSE !== '1',
  configureBuckets: [{ name: process.env.KB_S3RVER_BUCKET, configs: [] }],
});
let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  const done = () => process.exit(0);
  server.close().then(done, done);
  setTimeout(done, 3000).unref();
};
process.on('message', (m) => { if (m === 'stop') stop(); });
process.on('disconnect', stop);
server.run().then(
  (address) => process.send({ port: address.port }),
  (err) => { process.send({ error: String((err && err.message) || err) }); process.exit(1); },
);
`;

export async function startS3rver(options: StartS3rverOptions = {}): Promise<S3rverHandle> {
  const bucket = options.bucket ?? 'test-bucket';
  const modulePath = createRequire(import.meta.url).resolve('s3rver');
  const base = await mkdtemp(path.join(tmpdir(), 'kubectl-backup-s3rver-'));
  const directory = path.join(base, 'store');
  const tmp = path.join(base, 'tmp');
  await mkdir(directory);
  await mkdir(tmp);
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT], {
    env: {
      ...process.env,
      KB_S3RVER_MODULE: modulePath,
      KB_S3RVER_DIR: directory,
      KB_S3RVER_TMP: tmp,
      KB_S3RVER_BUCKET: bucket,
      KB_S3RVER_VERBOSE: options.verbose ? '1' : '0',
    },
    stdio: ['ignore', options.verbose ? 'inherit' : 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    if (options.verbose) process.stderr.write(chunk);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`s3rver did not start within ${options.startTimeoutMs ?? 20_000} ms`)),
        options.startTimeoutMs ?? 20_000,
      );
      child.once('message', (m: { port?: number; error?: string }) => {
        clearTimeout(timer);
        if (typeof m.port === 'number') resolve(m.port);
        else reject(new Error(`s3rver failed to start: ${m.error ?? 'unknown error'}`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited with code ${code}: ${stderr.trim() || 'no output'}`));
      });
    });
  } catch (err) {
    child.kill();
    await rm(base, { recursive: true, force: true });
    throw err;
  }

  const endpoint = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    directory,
    url: (prefix = '') =>
      `s3://${bucket}/${prefix.replace(/^\/+/, '')}?endpoint=${endpoint}&region=us-east-1`,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          if (child.connected) child.send('stop');
          const timer = setTimeout(() => child.kill(), 5000);
          await exited;
          clearTimeout(timer);
        }
        await rm(base, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
