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
 * Known differences from S3 (tests must not depend on them): s3rver writes objects in place, so
 * a GET racing a PUT of the same key can see a partial object; it does not verify SigV4
 * signatures (only the access key id); it ignores `If-None-Match`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
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

/** Runs in the child process (CommonJS, via `node -e`). */
const CHILD_SCRIPT = `
const S3rver = require(process.env.KB_S3RVER_MODULE);
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
  const directory = await mkdtemp(path.join(tmpdir(), 'kubectl-backup-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT], {
    env: {
      ...process.env,
      KB_S3RVER_MODULE: modulePath,
      KB_S3RVER_DIR: directory,
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
    await rm(directory, { recursive: true, force: true });
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
        await rm(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
